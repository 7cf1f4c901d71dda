/**
 * The one logging path. Every line is JSON, and every line passes redaction first: the values
 * registered as secret (the password, each JWT) and anything shaped like a JWT or a
 * password field are replaced before anything is written.
 */

import { LOG_EVENTS, type LogEventName } from './contract';

export type LogSink = (line: string) => void;

const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const PASSWORD_FIELD = /("?password"?\s*[:=]\s*"?)[^"&\s,}]+/gi;
const REDACTED = '***';

export class Logger {
  private readonly secrets = new Set<string>();

  constructor(private readonly sink: LogSink = (line) => process.stdout.write(`${line}\n`)) {}

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

  info(event: LogEventName, fields?: Record<string, unknown>): void {
    this.write('INFO', event, fields);
  }

  warn(event: LogEventName, fields?: Record<string, unknown>): void {
    this.write('WARN', event, fields);
  }

  error(event: LogEventName, fields?: Record<string, unknown>): void {
    this.write('ERROR', event, fields);
  }

  private write(level: string, event: LogEventName, fields?: Record<string, unknown>): void {
    const message = LOG_EVENTS[event];
    let line: string;
    try {
      line = JSON.stringify({ level, event, message, ...fields });
    } catch {
      line = JSON.stringify({ level, event, message });
    }
    this.sink(this.redact(line));
  }
}
