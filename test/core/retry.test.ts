import { withRetries } from '../../src/core/retry';
import { FakeClock } from '../support/lambda-fakes';

class Flaky extends Error {
  constructor(readonly retryAfterMs?: number) {
    super('flaky');
  }
}

function options(clock: FakeClock, extra: Partial<Parameters<typeof withRetries>[0]> = {}) {
  return {
    maxAttempts: 5,
    baseDelayMs: 1000,
    maxDelayMs: 8000,
    clock,
    isRetryable: (e: unknown) => e instanceof Flaky,
    requestedDelayMs: (e: unknown) => (e instanceof Flaky ? e.retryAfterMs : undefined),
    ...extra,
  };
}

describe('withRetries', () => {
  test('GIVEN two transient failures WHEN run THEN it succeeds on the third attempt after growing waits', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const out = await withRetries(options(clock), async () => {
      if (++calls < 3) throw new Flaky();
      return 'ok';
    });
    expect(out).toBe('ok');
    expect(calls).toBe(3);
    // Equal jitter with random()=0.5: 3/4 of each doubling step.
    expect(clock.sleeps).toEqual([750, 1500]);
  });

  test('GIVEN a permanent error WHEN run THEN it is thrown at once', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await expect(
      withRetries(options(clock), async () => {
        calls++;
        throw new Error('permanent');
      }),
    ).rejects.toThrow('permanent');
    expect(calls).toBe(1);
  });

  test('GIVEN a server-requested wait WHEN it is longer than the backoff THEN it is honoured', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await withRetries(options(clock), async () => {
      if (++calls === 1) throw new Flaky(5000);
      return 1;
    });
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(5000);
  });

  test('GIVEN a deadline WHEN the next wait would pass it THEN the last error is thrown instead of waiting', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await expect(
      withRetries(options(clock, { deadline: clock.now() + 2000, maxAttempts: 100 }), async () => {
        calls++;
        throw new Flaky();
      }),
    ).rejects.toThrow('flaky');
    expect(clock.now()).toBeLessThanOrEqual(clock.time);
    expect(calls).toBe(2); // waits 750, then 1500 would end past the deadline
  });

  test('GIVEN finalAttemptAtDeadline WHEN the next wait would pass the deadline THEN one last attempt is made just before it', async () => {
    const clock = new FakeClock();
    const deadline = clock.now() + 10_000;
    const at: number[] = [];
    await expect(
      withRetries(
        options(clock, { deadline, maxAttempts: 100, finalAttemptAtDeadline: true, delayForAttempt: () => 7000 }),
        async () => {
          at.push(clock.now());
          throw new Flaky();
        },
      ),
    ).rejects.toThrow('flaky');
    expect(at).toHaveLength(3);
    expect(deadline - at[2]).toBe(1000);
  });

  test('GIVEN attempts run out WHEN still failing THEN the error is thrown after maxAttempts', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await expect(
      withRetries(options(clock, { maxAttempts: 3 }), async () => {
        calls++;
        throw new Flaky();
      }),
    ).rejects.toBeInstanceOf(Flaky);
    expect(calls).toBe(3);
  });

  test('GIVEN an explicit schedule WHEN retrying THEN waits follow it within 10% jitter', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await withRetries(options(clock, { delayForAttempt: (n: number) => [7000, 8000][n - 1] }), async () => {
      if (++calls < 3) throw new Flaky();
      return 1;
    });
    expect(clock.sleeps).toEqual([7000, 8000]);
  });
});
