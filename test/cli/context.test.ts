/**
 * The CLI's logger: every (redacted) line to --verbose, and the Qualys client's retries, read
 * from the typed event, as progress.
 */
import { operatorLogger } from '../../src/cli/context';

describe('operatorLogger', () => {
  test('GIVEN a qualys.retrying event WHEN logged THEN progress names the step, attempt, error and wait, and the trace gets the line', () => {
    const traced: string[] = [];
    const shown: string[] = [];
    const log = operatorLogger(
      (line) => traced.push(line),
      (text) => shown.push(text),
    );
    log.warn('qualys.retrying', { step: 'List VM integrations', attempt: 1, delayMs: 2345, error: 'HTTP 503' });
    expect(shown).toEqual(['List VM integrations: attempt 1 failed (HTTP 503); retrying in 2.3 s']);
    expect(JSON.parse(traced[0])).toMatchObject({ event: 'qualys.retrying', step: 'List VM integrations' });
  });

  test('GIVEN other events WHEN logged THEN they reach the trace only', () => {
    const traced: string[] = [];
    const shown: string[] = [];
    const log = operatorLogger(
      (line) => traced.push(line),
      (text) => shown.push(text),
    );
    log.info('qualys.call', { method: 'GET', path: '/x', status: 200, ms: 3 });
    log.info('validate.waiting', { attempt: 1, delayMs: 10, answer: 'no' });
    expect(shown).toEqual([]);
    expect(traced).toHaveLength(2);
  });

  test('GIVEN a registered password in a retry error WHEN shown as progress THEN it is redacted', () => {
    const shown: string[] = [];
    const log = operatorLogger(
      () => {},
      (text) => shown.push(text),
    );
    log.addSecret('hunter2-secret');
    log.warn('qualys.retrying', { step: 'Log in', attempt: 2, delayMs: 0, error: 'echo hunter2-secret' });
    expect(shown).toEqual(['Log in: attempt 2 failed (echo ***); retrying in 0 s']);
  });
});
