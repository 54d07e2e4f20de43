/**
 * The core used directly, from `consumer-auth/core` (no HTTP, no store): which credential mode a request asks for, or
 * the CRM.COM error it gets, by the method's own validation rules for a release.
 */
import * as E from 'fp-ts/lib/Either.js'
import { errorCode, httpStatusOf, keyOf, noKey, parseRelease, resolveCredentials, DEFAULT_RELEASE } from 'consumer-auth/core'

export type Verdict = { readonly mode: string } | { readonly status: number; readonly code: string; readonly message: string }

export const checkRequest = (body: unknown, key?: string, release = 'R16.2.0'): Verdict => {
  const r = E.getOrElse(() => DEFAULT_RELEASE)(parseRelease(release))
  const credentials = resolveCredentials(r, { body, key: key === undefined ? noKey : keyOf(key) })
  if (E.isRight(credentials)) return { mode: credentials.right._tag }
  const { name, message } = credentials.left
  return { status: httpStatusOf(name), code: errorCode(name), message }
}
