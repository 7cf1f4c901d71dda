/**
 * The one logging path. Every line is JSON, and every line passes redaction first: the values
 * registered as secret (the password, each JWT) and anything shaped like a JWT or a
 * password field are replaced before anything is written. Listeners (the CLI's progress, an
 * in-process host such as `rehearse`) get each event as a typed record, redacted the same way
 * before they see it: events, not log text, are what other parts of the program react to.
 */

import { LOG_EVENTS, type LogEventFields, type LogEventName } from './contract';
import { errorMessage } from './errors';

export type LogSink = (line: string) => void;

export type LogLevel = 'INFO' | 'WARN' | 'ERROR';

/** The fields an event carries: declared in the contract for the events others read, free for the rest. */
export type FieldsOf<E extends LogEventName> = E extends keyof LogEventFields
  ? LogEventFields[E] & Record<string, unknown>
  : Record<string, unknown>;

/** One log event, redacted, as a listener receives it; narrow on `event` to read its declared fields. */
export type LogEvent = {
  readonly [E in LogEventName]: {
    readonly level: LogLevel;
    readonly event: E;
    readonly message: (typeof LOG_EVENTS)[E];
    /** The fields as logged (after a JSON round trip and redaction). */
    readonly fields: Readonly<FieldsOf<E>>;
  };
}[LogEventName];

/**
 * Called for every event, after redaction, after the sink. A listener observes: what it throws
 * is caught and written as a `log.listener-failed` line, and never reaches the code that logged
 * (a progress display that breaks must not fail the deploy it reports on).
 */
export type LogListener = (event: LogEvent) => void;

export interface LoggerOptions {
  /**
   * Who else gets each event. Read at every event, so a live collection (a Set the host adds
   * to later) works.
   * @default - none
   */
  readonly listeners?: Iterable<LogListener>;
}

const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const PASSWORD_FIELD = /("?password"?\s*[:=]\s*"?)[^"&\s,}]+/gi;
/** A field whose key says it holds a password, as PASSWORD_FIELD reads a line. */
const PASSWORD_KEY = /password$/i;
const REDACTED = '***';

export class Logger {
  private readonly secrets = new Set<string>();
  private readonly listeners: Iterable<LogListener>;

  constructor(
    private readonly sink: LogSink = (line) => process.stdout.write(`${line}\n`),
    options: LoggerOptions = {},
  ) {
    this.listeners = options.listeners ?? [];
  }

  /** Registers a value that must never be written. */
  addSecret(value: string | undefined): void {
    if (value && value.length >= 4) this.secrets.add(value);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join(REDACTED);
    // Secrets may also appear JSON- or URL-encoded.
    for (const secret of this.secrets) {
      for (const encoded of [JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]) {
        if (encoded !== secret) out = out.split(encoded).join(REDACTED);
      }
    }
    return out.replace(JWT_PATTERN, REDACTED).replace(PASSWORD_FIELD, `$1${REDACTED}`);
  }

  info<E extends LogEventName>(event: E, fields?: FieldsOf<E>): void {
    this.write('INFO', event, fields);
  }

  warn<E extends LogEventName>(event: E, fields?: FieldsOf<E>): void {
    this.write('WARN', event, fields);
  }

  error<E extends LogEventName>(event: E, fields?: FieldsOf<E>): void {
    this.write('ERROR', event, fields);
  }

  private write(level: LogLevel, event: LogEventName, fields?: Record<string, unknown>): void {
    const message = LOG_EVENTS[event];
    const redacted = this.redactFields(fields);
    // The line is the redacted fields written out, not the written line redacted: a pattern run
    // over JSON text can cut through its quotes and brackets and leave a line that is no JSON.
    this.sink(JSON.stringify({ level, event, message, ...redacted }));
    for (const listener of this.listeners) {
      try {
        listener({ level, event, message, fields: redacted } as LogEvent);
      } catch (error) {
        // Not told to the listeners: one that throws on every event would be called back without end.
        this.sink(
          JSON.stringify({
            level: 'WARN',
            event: 'log.listener-failed',
            message: LOG_EVENTS['log.listener-failed'],
            listenedEvent: event,
            error: this.redact(errorMessage(error)),
          }),
        );
      }
    }
  }

  /**
   * The fields as plain JSON data with every string (and key) redacted, a number whose digits
   * hold a registered secret masked, and a password-named field's value replaced whatever its
   * type (a list or an object included). Fields that cannot be written as JSON (a cycle, a
   * BigInt) are left out, as they were from the line.
   */
  private redactFields(fields: Record<string, unknown> | undefined): Record<string, unknown> {
    let data: unknown;
    try {
      data = fields === undefined ? {} : JSON.parse(JSON.stringify(fields));
    } catch {
      return {};
    }
    const walk = (value: unknown): unknown => {
      if (typeof value === 'string') return this.redact(value);
      if (typeof value === 'number') return this.redact(String(value)) === String(value) ? value : REDACTED;
      if (Array.isArray(value)) return value.map(walk);
      if (value === null || typeof value !== 'object') return value;
      return Object.fromEntries(
        Object.entries(value).map(([key, v]) => [this.redact(key), PASSWORD_KEY.test(key) ? REDACTED : walk(v)]),
      );
    };
    const out = walk(data);
    return out !== null && typeof out === 'object' && !Array.isArray(out) ? (out as Record<string, unknown>) : {};
  }
}
