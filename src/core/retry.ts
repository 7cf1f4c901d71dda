/**
 * The one retry helper: jittered exponential backoff, bounded by attempts and a deadline.
 * Errors decide for themselves whether they are worth retrying and may name the wait the
 * server asked for (Retry-After, X-RateLimit-ToWait-Sec).
 */

export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** The first backoff; each later one doubles, up to `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Epoch milliseconds after which no new attempt starts. @default - no deadline */
  readonly deadline?: number;
  /** Whether the error is worth another attempt. */
  readonly isRetryable: (error: unknown) => boolean;
  /** A wait the error itself asks for (a server's rate-limit hint), in milliseconds. */
  readonly requestedDelayMs?: (error: unknown) => number | undefined;
  /** Explicit backoff for attempt n (1-based, the wait after the nth failure); overrides the exponential one. */
  readonly delayForAttempt?: (attempt: number) => number;
  /** How far an explicit backoff is jittered either way, as a share of it. @default 0.1 */
  readonly jitterRatio?: number;
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /**
   * When the next backoff would end past the deadline, make one last attempt just before the
   * deadline instead of giving up early: for waits whose whole budget should be used.
   * @default false
   */
  readonly finalAttemptAtDeadline?: boolean;
  readonly clock: Clock;
}

/** How close to the deadline a final attempt is made, leaving time for the attempt itself. */
const FINAL_ATTEMPT_MARGIN_MS = 1000;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** A number in [0, 1), for jitter. */
  random(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

/** Runs `fn` until it succeeds, the error is not retryable, attempts run out or the deadline would pass. */
export async function withRetries<T>(options: RetryOptions, fn: (attempt: number) => Promise<T>): Promise<T> {
  const { clock } = options;
  let finalDone = false;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= options.maxAttempts || !options.isRetryable(error)) throw error;
      let delay = backoff(options, attempt, error);
      if (options.deadline !== undefined && clock.now() + delay >= options.deadline) {
        const untilFinal = options.deadline - FINAL_ATTEMPT_MARGIN_MS - clock.now();
        if (!options.finalAttemptAtDeadline || finalDone || untilFinal <= 0) throw error;
        delay = untilFinal;
        finalDone = true;
      }
      options.onRetry?.(error, attempt, delay);
      await clock.sleep(delay);
    }
  }
}

function backoff(options: RetryOptions, attempt: number, error: unknown): number {
  const { clock } = options;
  let delay: number;
  if (options.delayForAttempt) {
    // Keep an explicit schedule's shape; jitter it a little so that many callers spread out.
    const jitter = options.jitterRatio ?? 0.1;
    delay = options.delayForAttempt(attempt) * (1 - jitter + 2 * jitter * clock.random());
  } else {
    // "Equal jitter": half the exponential step fixed, half random.
    const step = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
    delay = step / 2 + (clock.random() * step) / 2;
  }
  const requested = options.requestedDelayMs?.(error);
  if (requested !== undefined && requested > delay) delay = requested + clock.random() * 250;
  return Math.round(delay);
}
