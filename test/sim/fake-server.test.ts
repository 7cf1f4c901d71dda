/**
 * The fault kinds both fakes share (times, delayMs, reset, status), the call log and the
 * stop, asserted once against each fake over raw HTTP. What a fake answers besides is
 * tested in its own file.
 */
import { request } from 'undici';
import { FakeAws } from '../../sim/fake-aws';
import type { FaultKinds, LoggedCall } from '../../sim/fake-server';
import { DEFAULT_USER, QualysSimulator } from '../../sim/qualys-simulator';

/** What the shared tests need of a fake: the base server's surface, with its own fault selectors. */
interface FakeUnderTest {
  readonly calls: LoggedCall[];
  start(): Promise<string>;
  stop(): Promise<void>;
  inject(fault: FaultKinds & Record<string, unknown>): void;
  clearFaults(): void;
  resetCalls(): void;
  callCounts(): Record<string, number>;
}

interface Subject {
  name: string;
  make(): FakeUnderTest;
  /** A fault selector that matches `send`'s request, and one that does not. */
  matching: Record<string, unknown>;
  other: Record<string, unknown>;
  /** One request the fake answers with `okStatus` when no fault applies; resolves to the status. */
  send(url: string): Promise<number>;
  okStatus: number;
  /** A fault with only a delay: the Qualys simulator then answers normally, FakeAws throttles. */
  delayOnlyStatus: number;
  /** The call-log key of `send`'s request. */
  key: string;
}

async function statusOf(url: string, init: Parameters<typeof request>[1]): Promise<number> {
  const res = await request(url, init);
  await res.body.text();
  return res.statusCode;
}

const SUBJECTS: Subject[] = [
  {
    name: 'the Qualys simulator',
    make: () => new QualysSimulator() as unknown as FakeUnderTest,
    matching: { method: 'POST', path: '/auth' },
    other: { path: '/partner-integration/aws/s3/vm' },
    send: (url) =>
      statusOf(`${url}/auth`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          username: DEFAULT_USER.username,
          password: DEFAULT_USER.password,
          token: 'true',
        }).toString(),
      }),
    okStatus: 200,
    delayOnlyStatus: 200,
    key: 'POST /auth',
  },
  {
    name: 'the fake AWS endpoint',
    make: () => new FakeAws() as unknown as FakeUnderTest,
    matching: { service: 'sts', action: 'GetCallerIdentity' },
    other: { service: 'iam' },
    send: (url) =>
      statusOf(`${url}/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          // Signed in form only: the fake checks that a SigV4 header is there, not the signature.
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0',
        },
        body: 'Action=GetCallerIdentity&Version=2011-06-15',
      }),
    okStatus: 200,
    delayOnlyStatus: 400,
    key: 'sts:GetCallerIdentity',
  },
];

describe.each(SUBJECTS)('$name', (subject) => {
  let fake: FakeUnderTest;
  let url: string;

  beforeEach(async () => {
    fake = subject.make();
    url = await fake.start();
  });
  afterEach(async () => {
    await fake.stop();
  });

  test('GIVEN a status fault without times WHEN the matching request comes twice THEN that status once, then the normal answer', async () => {
    fake.inject({ ...subject.matching, status: 503 });
    expect(await subject.send(url)).toBe(503);
    expect(await subject.send(url)).toBe(subject.okStatus);
    expect(fake.calls.map((c) => c.status)).toEqual([503, subject.okStatus]);
  });

  test('GIVEN a status fault with times 2 WHEN the matching request comes three times THEN it is consumed twice', async () => {
    fake.inject({ ...subject.matching, status: 500, times: 2 });
    const statuses = [await subject.send(url), await subject.send(url), await subject.send(url)];
    expect(statuses).toEqual([500, 500, subject.okStatus]);
  });

  test('GIVEN a fault for other requests WHEN this request comes THEN it is answered normally', async () => {
    fake.inject({ ...subject.other, status: 500 });
    expect(await subject.send(url)).toBe(subject.okStatus);
  });

  test('GIVEN a delay-only fault WHEN the request comes THEN the answer is late', async () => {
    fake.inject({ ...subject.matching, delayMs: 150 });
    const started = Date.now();
    expect(await subject.send(url)).toBe(subject.delayOnlyStatus);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  test('GIVEN a reset fault WHEN the request comes THEN the connection drops unanswered, the call is logged with status 0, and the next is served', async () => {
    fake.inject({ ...subject.matching, reset: true });
    await expect(subject.send(url)).rejects.toThrow();
    expect(fake.calls.map((c) => c.status)).toEqual([0]);
    expect(await subject.send(url)).toBe(subject.okStatus);
  });

  test('GIVEN queued faults WHEN cleared THEN requests are served normally', async () => {
    fake.inject({ status: 500, times: 10 });
    fake.clearFaults();
    expect(await subject.send(url)).toBe(subject.okStatus);
  });

  test('GIVEN served requests WHEN counting THEN they are grouped by the fake’s key, with the time each arrived; resetCalls empties the log', async () => {
    const before = Date.now();
    await subject.send(url);
    await subject.send(url);
    expect(fake.callCounts()).toEqual({ [subject.key]: 2 });
    expect(fake.calls.every((c) => c.at >= before - 1000 && c.at <= Date.now() + 1000)).toBe(true);
    fake.resetCalls();
    expect(fake.calls).toEqual([]);
    expect(fake.callCounts()).toEqual({});
  });

  test('GIVEN a request held by a long delay WHEN the fake stops THEN the stop returns promptly, the request fails, and the port refuses', async () => {
    fake.inject({ ...subject.matching, delayMs: 30_000 });
    const pending = subject.send(url).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await fake.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
    await expect(subject.send(url)).rejects.toThrow();
  });
});
