/**
 * @module json-body
 * A bounded JSON body reader (docs/behaviour.md, the validation matrix): the content type checked first (415), at most 16 KiB read (413), then
 * parsed (400 MALFORMEDREQUEST, a name given twice in one object included). Reads the raw stream itself so that no
 * byte past the limit is buffered.
 */
import type { IncomingMessage } from 'node:http'
import * as E from 'fp-ts/lib/Either.js'
import { authError, type AuthError } from '../../core/index.js'
import { firstDuplicateName } from './duplicate-names.js'

export const MAX_BODY_BYTES = 16 * 1024

const JSON_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i

export const isJsonContentType = (type: string | undefined): boolean => type !== undefined && JSON_TYPE.test(type.trim())

/** Does the request's framing announce a body? Without Content-Length or Transfer-Encoding it ends with its head. */
export const hasRequestBody = (req: IncomingMessage): boolean =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0

/** A duplicated name is quoted in the answer up to this length (it is the client's own text, not a secret's place). */
const MAX_NAME_SHOWN = 100

const tooLarge = () => authError('PAYLOADTOOLARGE', `The request body must be at most ${MAX_BODY_BYTES} bytes`)
const utf8 = new TextDecoder('utf-8', { fatal: true })

const readBounded = (req: IncomingMessage): Promise<E.Either<AuthError, Buffer>> =>
  new Promise((resolve) => {
    const declared = Number(req.headers['content-length'])
    // What is not read is not drained either: the answer closes the connection (unread-body.ts).
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) return resolve(E.left(tooLarge()))
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const finish = (r: E.Either<AuthError, Buffer>) => {
      if (done) return
      done = true
      req.off('data', onData)
      if (E.isLeft(r)) req.pause()
      resolve(r)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) return finish(E.left(tooLarge()))
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('end', () => finish(E.right(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))))
    // An error (an abort is one: node:http destroys the request with ECONNRESET), or the connection closed under the
    // request (a time-out answered by protocol-errors.ts).
    const unreadable = () => finish(E.left(authError('MALFORMEDREQUEST', 'The request body could not be read')))
    req.once('error', unreadable)
    req.once('close', unreadable)
  })

/** The body as a JSON value; any JSON value is returned, whether it is an object is the core's rule. */
export const readJsonBody = async (req: IncomingMessage): Promise<E.Either<AuthError, unknown>> => {
  if (!isJsonContentType(req.headers['content-type'])) {
    return E.left(authError('UNSUPPORTEDMEDIATYPE', 'The request body must be application/json (charset utf-8)'))
  }
  const raw = await readBounded(req)
  if (E.isLeft(raw)) return raw
  let text: string
  let value: unknown
  try {
    text = utf8.decode(raw.right)
    value = JSON.parse(text)
  } catch {
    return E.left(authError('MALFORMEDREQUEST', 'The request body is not valid UTF-8 JSON'))
  }
  const duplicate = firstDuplicateName(text)
  if (duplicate !== undefined) {
    const shown = JSON.stringify(duplicate.length > MAX_NAME_SHOWN ? `${duplicate.slice(0, MAX_NAME_SHOWN)}…` : duplicate)
    return E.left(authError('MALFORMEDREQUEST', `The request body gives ${shown} more than once: a name may appear once in an object`, [duplicate.slice(0, MAX_NAME_SHOWN)]))
  }
  return E.right(value)
}
