/**
 * The lake as a local folder, for `qualys-s3 normalize`: the same keys as the bucket, with the
 * `curated/` prefix left out so the tables sit at the top, as `qualys-s3 query --local` reads them:
 *
 *   <out>/pc_postures/day=YYYY-MM-DD/<objectId>.parquet
 *   <out>/vm_findings/day=YYYY-MM-DD/<objectId>.parquet
 *   <out>/quarantine/<source key>(.reason.json | .unmapped.ndjson)
 *   <out>/manifests/<objectId>.json
 *
 * Files are written to a temporary name in the same folder and renamed into place, so a reader
 * never sees half a file (as S3 never shows half an object).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CURATED_PREFIX } from '../core/findings/layout';
import type { LakeStore, SourceObject } from '../core/findings/ports';

export class LocalLakeStore implements LakeStore {
  constructor(readonly root: string) {}

  /** The file a lake key is stored in. */
  pathOf(key: string): string {
    const relative = key.startsWith(CURATED_PREFIX) ? key.slice(CURATED_PREFIX.length) : key;
    const target = path.resolve(this.root, ...relative.split('/'));
    if (!target.startsWith(path.resolve(this.root) + path.sep))
      throw new Error(`the lake key "${key}" leads outside ${this.root}`);
    return target;
  }

  private async place(key: string, write: (tmp: string) => Promise<void>): Promise<void> {
    const target = this.pathOf(key);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await write(tmp);
      fs.renameSync(tmp, target);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  async putFile(key: string, filePath: string): Promise<void> {
    await this.place(key, async (tmp) => fs.copyFileSync(filePath, tmp));
  }

  async putText(key: string, body: string): Promise<void> {
    await this.place(key, async (tmp) => fs.writeFileSync(tmp, body));
  }

  async copySource(source: SourceObject, key: string): Promise<void> {
    await this.place(key, async (tmp) => pipeline(await source.open(), fs.createWriteStream(tmp)));
  }

  async getText(key: string): Promise<string | undefined> {
    try {
      return fs.readFileSync(this.pathOf(key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) fs.rmSync(this.pathOf(key), { force: true });
  }
}
