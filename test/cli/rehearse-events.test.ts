/**
 * rehearse reads the bundled handler's typed log events (not its stdout): how it narrates
 * them, and what it says when the project cannot synthesize (an `npm ci --omit=dev` install).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LOG_EVENTS } from '../../src/core/contract';
import { type LogEvent, Logger } from '../../src/core/log';
import { narration, synthToolsProblem } from '../../src/cli/rehearse';
import { ROOT } from '../../sim/deployment';

/** The events a logger delivers, as the bundle's observer would hand them over. */
function eventsOf(write: (log: Logger) => void, secret?: string): LogEvent[] {
  const events: LogEvent[] = [];
  const log = new Logger(() => {}, { listeners: [(e) => events.push(e)] });
  log.addSecret(secret);
  write(log);
  return events;
}

describe('narration of the handler events', () => {
  test('GIVEN a qualys.call event WHEN narrated THEN the line names method, path, status and time from its fields', () => {
    const [event] = eventsOf((log) =>
      log.info('qualys.call', {
        method: 'PATCH',
        path: '/partner-integration/aws/s3/7/vm/validate',
        status: 200,
        ms: 41,
      }),
    );
    expect(narration(event)).toBe(
      'Qualys          PATCH  /partner-integration/aws/s3/7/vm/validate → HTTP 200 (41 ms)',
    );
  });

  test('GIVEN a validate.waiting event WHEN narrated THEN it shows the attempt, the answer without its step prefix, and the wait in seconds', () => {
    const [event] = eventsOf((log) =>
      log.info('validate.waiting', { attempt: 2, delayMs: 1450, answer: 'Register VM validate: role not assumable' }),
    );
    expect(narration(event)).toBe('validate #2     not yet (role not assumable); next try in 1.5 s');
  });

  test('GIVEN the request envelope events WHEN narrated THEN they are not shown; another event shows its message and fields', () => {
    const events = eventsOf((log) => {
      log.info('request.received', { RequestType: 'Create' });
      log.info('request.done', { RequestType: 'Create' });
      log.info('adopt.existing', { integrationId: '42' });
    });
    expect(events.map(narration)).toEqual([
      undefined,
      undefined,
      `handler         ${LOG_EVENTS['adopt.existing']} (integrationId: 42)`,
    ]);
  });

  test('GIVEN an event whose fields hold the password WHEN narrated THEN the narration holds it redacted', () => {
    const password = 'Rehearsal-Only-Pa55';
    const [event] = eventsOf(
      (log) => log.error('request.failed', { error: `Create failed: echoed ${password}` }),
      password,
    );
    expect(narration(event)).toContain('echoed ***');
    expect(narration(event)).not.toContain(password);
  });
});

describe('what rehearse needs to synthesize', () => {
  test('GIVEN this project (installed with its devDependencies) THEN nothing is missing', () => {
    expect(synthToolsProblem(ROOT)).toBeUndefined();
  });

  test('GIVEN a project installed without devDependencies WHEN rehearse checks THEN it names tsx and esbuild and says how to install them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs3-omit-dev-'));
    try {
      fs.mkdirSync(path.join(dir, 'node_modules', 'esbuild'), { recursive: true });
      expect(synthToolsProblem(dir)).toMatch(/needs the devDependencies "tsx" and "esbuild".*omit=dev.*run "npm ci"/);
      fs.writeFileSync(path.join(dir, 'node_modules', 'esbuild', 'package.json'), '{}');
      expect(synthToolsProblem(dir)).toMatch(/needs the devDependency "tsx", not installed/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
