// Structured logs (pino). Messages are stable event keys ("offer.timeout"), details are fields.
// Tokens, passwords, phone numbers and names never reach a log line: they are redacted at the
// logger, whatever a call site passes by mistake.
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

const REDACT = [
  'token',
  '*.token',
  'auth',
  '*.auth',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'phone',
  '*.phone',
  'phones',
  '*.phones',
  'dncPhone',
  '*.dncPhone',
  'name',
  'lead',
  '*.lead',
  'leads',
  '*.leads',
  'notes',
  '*.notes',
  // pg errors carry the offending row values in `detail` (a phone number, say).
  'err.detail',
  'err.cause.detail',
  '*.err.detail',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'handshake.auth',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'dialhub' },
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
