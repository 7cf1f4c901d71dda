/**
 * Just enough of CloudFormation and the Provider framework to drive the synthesized app's
 * bundled handler: resolves the template's intrinsic functions against made-up physical
 * IDs, builds the events CloudFormation would send, and invokes the handler as the
 * framework would (no Delete after a failed create).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
}

export interface Pseudo {
  account: string;
  region: string;
  partition: string;
  stackId: string;
  stackName: string;
}

export type Handler = (
  event: unknown,
  context: { getRemainingTimeInMillis(): number },
) => Promise<{
  PhysicalResourceId: string;
  Data: Record<string, string>;
}>;

/** Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Select and Fn::Split against physical IDs. */
export class Resolver {
  readonly physicalIds = new Map<string, string>();
  readonly attributes = new Map<string, string>();

  constructor(private readonly pseudo: Pseudo) {}

  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (typeof value !== 'object' || value === null) return value;
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const [key] = keys;
      const arg = obj[key];
      switch (key) {
        case 'Ref':
          return this.ref(arg as string);
        case 'Fn::GetAtt': {
          const [logicalId, attr] = arg as [string, string];
          const found = this.attributes.get(`${logicalId}.${attr}`);
          if (found === undefined) throw new Error(`unresolved Fn::GetAtt ${logicalId}.${attr}`);
          return found;
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown[]];
          return (this.resolve(parts) as unknown[]).join(sep);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [number, unknown];
          return (this.resolve(list) as unknown[])[index];
        }
        case 'Fn::Split': {
          const [sep, str] = arg as [string, unknown];
          return String(this.resolve(str)).split(sep);
        }
      }
    }
    return Object.fromEntries(keys.map((k) => [k, this.resolve(obj[k])]));
  }

  private ref(name: string): string {
    switch (name) {
      case 'AWS::AccountId':
        return this.pseudo.account;
      case 'AWS::Region':
        return this.pseudo.region;
      case 'AWS::Partition':
        return this.pseudo.partition;
      case 'AWS::StackId':
        return this.pseudo.stackId;
      case 'AWS::StackName':
        return this.pseudo.stackName;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
    }
    const id = this.physicalIds.get(name);
    if (id === undefined) throw new Error(`unresolved Ref ${name}`);
    return id;
  }
}

export function readTemplate(outdir: string, stackName: string): Template {
  return JSON.parse(fs.readFileSync(path.join(outdir, `${stackName}.template.json`), 'utf8'));
}

/** The directory of a function's code asset, from the template's asset metadata. */
export function functionAssetDir(outdir: string, template: Template, logicalIdPrefix: string): string {
  const [, fn] =
    Object.entries(template.Resources).find(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(logicalIdPrefix),
    ) ?? [];
  const assetPath = fn?.Metadata?.['aws:asset:path'];
  if (typeof assetPath !== 'string') throw new Error(`no function asset for ${logicalIdPrefix}`);
  return path.join(outdir, assetPath);
}

export function resourcesOfType(template: Template, type: string): string[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id]) => id);
}

/** Invokes the handler as the Provider framework does, with a Lambda-like remaining-time clock. */
export async function invoke(
  handler: Handler,
  event: Record<string, unknown>,
  timeoutMs = 14 * 60_000,
): Promise<{ ok: true; PhysicalResourceId: string; Data: Record<string, string> } | { ok: false; reason: string }> {
  const started = Date.now();
  const context = { getRemainingTimeInMillis: () => timeoutMs - (Date.now() - started) };
  try {
    const out = await handler(
      {
        ResponseURL:
          'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/presigned?X-Amz-Signature=abc',
        ...event,
      },
      context,
    );
    return { ok: true, ...out };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
