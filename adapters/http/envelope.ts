/**
 * @module envelope
 * The one CRM.COM envelope, and the one mapping from a core AuthError to status, headers and envelope (docs/behaviour.md, the errors).
 */
import { errorCode, httpStatusOf, type AuthError } from '../../core/index.js'

export type HttpStatusMode = 'standard' | 'envelope'

export interface Envelope<T> {
  readonly data: T | null
  readonly status: { readonly code: string; readonly description: string; readonly message: string }
}

export const okEnvelope = <T>(data: T): Envelope<T> => ({ data, status: { code: 'OK', description: '', message: '' } })

export const errorEnvelope = (e: AuthError): Envelope<never> => ({
  data: null,
  status: { code: errorCode(e.name), description: e.name, message: e.message },
})

export interface HttpFailure {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Envelope<never>
}

/** `envelope` mode answers every failure with 200, for clients that read only the envelope. */
export const toHttpFailure = (e: AuthError, mode: HttpStatusMode = 'standard'): HttpFailure => {
  const headers: Record<string, string> = {}
  if (e.name === 'INVALIDAPPLICATIONKEY') headers['WWW-Authenticate'] = 'Basic realm="consumer-auth", charset="UTF-8"'
  // A lock-out's wait, or how long a client shed by a full pass-code queue (503) should wait.
  if ((e.name === 'TOOMANYATTEMPTS' || e.name === 'SERVICEUNAVAILABLE') && e.retryAfterSeconds !== undefined) headers['Retry-After'] = String(Math.max(1, Math.ceil(e.retryAfterSeconds)))
  return { status: mode === 'envelope' ? 200 : httpStatusOf(e.name), headers, body: errorEnvelope(e) }
}
