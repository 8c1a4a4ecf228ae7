// The SMS provider port, and the one provider dialhub ships: a POST of JSON to a configurable
// HTTP endpoint (SMS_HTTP_URL, optional bearer SMS_HTTP_TOKEN), which fits most SMS gateways'
// "send message" APIs or a small relay in front of one. A 2xx answer is accepted (its JSON `id`,
// if any, is kept as the provider's reference); anything else, or no answer in time, is a failure
// the worker retries.

export interface SmsMessage {
  /** E.164. */
  readonly to: string;
  readonly body: string;
  /** Ours: the same on every try of one follow-up, so the provider can drop a repeat. */
  readonly reference: string;
}

export interface SmsSendResult {
  readonly ok: boolean;
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly providerRef: string | null;
}

export interface SmsProvider {
  readonly name: string;
  send(message: SmsMessage): Promise<SmsSendResult>;
}

export interface HttpSmsProviderOptions {
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  readonly token?: string;
  /** Default 10 s. */
  readonly timeoutMs?: number;
}

export function createHttpSmsProvider(options: HttpSmsProviderOptions): SmsProvider {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    name: 'http',
    async send(message) {
      try {
        const res = await fetch(options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'dialhub-sms',
            'idempotency-key': message.reference,
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          },
          body: JSON.stringify(message),
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.text();
        if (res.status < 200 || res.status >= 300) {
          return { ok: false, statusCode: res.status, error: `HTTP ${res.status}`, providerRef: null };
        }
        let providerRef: string | null = null;
        try {
          const id = (JSON.parse(text) as { id?: unknown }).id;
          if (typeof id === 'string' || typeof id === 'number') providerRef = String(id).slice(0, 200);
        } catch {
          // Not JSON: accepted all the same, without a reference.
        }
        return { ok: true, statusCode: res.status, error: null, providerRef };
      } catch (err) {
        const error = err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 300) : 'request failed';
        return { ok: false, statusCode: null, error, providerRef: null };
      }
    },
  };
}
