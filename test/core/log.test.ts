import { LOG_EVENTS } from '../../src/core/contract';
import { type LogEvent, type LogListener, Logger } from '../../src/core/log';
import { memoryLogger } from '../support/lambda-fakes';

describe('Logger redaction', () => {
  test('GIVEN a registered secret WHEN it appears plain, JSON-escaped or URL-encoded THEN it is never written', () => {
    const { log, lines } = memoryLogger();
    const password = 'p@ss"w/rd&1';
    log.addSecret(password);
    log.info('request.failed', {
      error: `plain ${password}`,
      nested: { value: password },
      form: `password=${encodeURIComponent(password)}`,
    });
    const out = lines.join('\n');
    expect(out).not.toContain(password);
    expect(out).not.toContain(encodeURIComponent(password));
    expect(out).not.toContain(JSON.stringify(password).slice(1, -1));
    expect(out).toContain('***');
  });

  test('GIVEN something shaped like a JWT WHEN logged THEN it is redacted even if never registered', () => {
    const { log, lines } = memoryLogger();
    log.warn('request.failed', { auth: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' });
    expect(lines[0]).not.toMatch(/eyJhbGciOiJIUzI1NiJ9/);
  });

  test('GIVEN a password field WHEN logged THEN its value is redacted', () => {
    const { log, lines } = memoryLogger();
    log.error('request.failed', { body: 'username=u&password=hunter22&token=true' });
    expect(lines[0]).not.toContain('hunter22');
    expect(lines[0]).toContain('username=u');
  });

  test('GIVEN fields WHEN logged THEN each line is one JSON object with level, event name and its message', () => {
    const { log, lines } = memoryLogger();
    log.info('validate.done', { n: 1 });
    expect(JSON.parse(lines[0])).toEqual({
      level: 'INFO',
      event: 'validate.done',
      message: LOG_EVENTS['validate.done'],
      n: 1,
    });
  });

  test('GIVEN the event catalogue THEN every name is dotted lower-case and every message is distinct', () => {
    const names = Object.keys(LOG_EVENTS);
    for (const name of names) expect(name).toMatch(/^[a-z]+(-[a-z]+)*\.[a-z]+(-[a-z]+)*$/);
    expect(new Set(Object.values(LOG_EVENTS)).size).toBe(names.length);
  });
});

describe('Logger listeners', () => {
  function listened(): { log: Logger; lines: string[]; events: LogEvent[] } {
    const lines: string[] = [];
    const events: LogEvent[] = [];
    const log = new Logger((line) => lines.push(line), { listeners: [(e) => events.push(e)] });
    return { log, lines, events };
  }

  test('GIVEN a registered secret WHEN an event carries it in values, nested values, keys or encoded THEN no listener receives it', () => {
    const { log, events } = listened();
    const password = 'p@ss"w/rd&1';
    log.addSecret(password);
    log.error('request.failed', {
      error: `plain ${password}`,
      nested: { list: [password, { deeper: JSON.stringify({ password }) }] },
      [`key-${password}`]: 1,
      form: `password=${encodeURIComponent(password)}`,
      token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
    });
    expect(events).toHaveLength(1);
    const seen = JSON.stringify(events);
    expect(seen).not.toContain(password);
    expect(seen).not.toContain(encodeURIComponent(password));
    expect(seen).not.toContain(JSON.stringify(password).slice(1, -1));
    expect(seen).not.toContain('eyJhbGciOiJIUzI1NiJ9');
    expect(events[0].fields).toMatchObject({ error: 'plain ***', 'key-***': 1 });
  });

  test('GIVEN a password-named field of any type WHEN logged THEN the listener gets *** and the line stays one JSON object', () => {
    const { log, lines, events } = listened();
    log.info('request.received', { password: 12345678, newPassword: 'hunter22', passwordPolicy: 'strict' });
    expect(events[0].fields).toEqual({ password: '***', newPassword: '***', passwordPolicy: 'strict' });
    expect(JSON.parse(lines[0])).toMatchObject({ password: '***', newPassword: '***' });
  });

  test('GIVEN an event WHEN logged THEN the listener gets level, event name, message and fields, as the line says them', () => {
    const { log, lines, events } = listened();
    log.warn('qualys.retrying', { step: 'Register VM', attempt: 2, delayMs: 1500, error: 'HTTP 503' });
    expect(events).toEqual([
      {
        level: 'WARN',
        event: 'qualys.retrying',
        message: LOG_EVENTS['qualys.retrying'],
        fields: { step: 'Register VM', attempt: 2, delayMs: 1500, error: 'HTTP 503' },
      },
    ]);
    const { level, event, message, ...fields } = JSON.parse(lines[0]);
    expect({ level, event, message, fields }).toEqual(events[0]);
  });

  test('GIVEN a live set of listeners WHEN one is added after the logger was made THEN it gets the events from then on', () => {
    const listeners = new Set<LogListener>();
    const log = new Logger(() => {}, { listeners });
    log.info('validate.done');
    const events: string[] = [];
    listeners.add((e) => events.push(e.event));
    log.info('update.done');
    expect(events).toEqual(['update.done']);
  });

  test('GIVEN fields that cannot be written as JSON (a cycle) WHEN logged THEN the line and the listener get the event without fields', () => {
    const { log, lines, events } = listened();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    log.info('delete.done', cyclic);
    expect(JSON.parse(lines[0])).toEqual({ level: 'INFO', event: 'delete.done', message: LOG_EVENTS['delete.done'] });
    expect(events[0].fields).toEqual({});
  });
});
