/**
 * @module test/fuzz/raw-client
 * An HTTP/1.1 client on a bare TCP socket, so that nothing is validated or rewritten client-side: the request line and
 * the header section are written byte for byte as generated (control characters, obs-text, several headers of one
 * name, absolute-form and asterisk-form targets), the body framed as the case says. Every request carries
 * `Connection: close`, so the answer is read to the end of the connection and parsed here (interim 1xx answers
 * skipped, chunked bodies decoded). Every request is bounded in time.
 */
import { connect } from 'node:net'

/** One request as the fuzz suite sends it. Strings are byte strings: each char code (< 256) is one byte on the wire. */
export interface WireRequest {
  readonly method: string
  readonly target: string
  /** Without Host, Content-Length, Transfer-Encoding and Connection, which `serialize` adds as `framing` says. */
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly body: Uint8Array
  /** length: Content-Length; chunked: Transfer-Encoding (two chunks); both: both headers (smuggling shape); none: no body framing at all. */
  readonly framing: 'length' | 'chunked' | 'both' | 'none'
  readonly host: boolean
}

export type Outcome =
  | {
      readonly kind: 'response'
      readonly status: number
      /** Lower-cased names; a header sent more than once keeps all its values. */
      readonly headers: ReadonlyMap<string, ReadonlyArray<string>>
      readonly body: Buffer
      /** Bytes after the first final response (there must be none: one request, one answer). */
      readonly trailing: number
      /** A Content-Length that does not match the body received. */
      readonly lengthMismatch: boolean
    }
  /** The connection ended (or was reset) before a whole status line arrived. */
  | { readonly kind: 'closed'; readonly error?: string; readonly received: number }
  | { readonly kind: 'timeout'; readonly received: number }

const CRLF = '\r\n'

/** The request's bytes on the wire. */
export const serialize = (r: WireRequest): Buffer => {
  const head: string[] = [`${r.method} ${r.target} HTTP/1.1`]
  if (r.host) head.push('Host: 127.0.0.1')
  for (const [name, value] of r.headers) head.push(`${name}: ${value}`)
  const body = Buffer.from(r.body)
  let payload: Buffer = body
  if (r.framing === 'length') head.push(`Content-Length: ${body.length}`)
  if (r.framing === 'chunked' || r.framing === 'both') {
    head.push('Transfer-Encoding: chunked')
    if (r.framing === 'both') head.push(`Content-Length: ${body.length}`)
    const cut = body.length >> 1
    const parts = [body.subarray(0, cut), body.subarray(cut)].filter((p) => p.length > 0)
    payload = Buffer.concat([
      ...parts.flatMap((p) => [Buffer.from(p.length.toString(16) + CRLF, 'latin1'), p, Buffer.from(CRLF, 'latin1')]),
      Buffer.from(`0${CRLF}${CRLF}`, 'latin1'),
    ])
  }
  head.push('Connection: close')
  return Buffer.concat([Buffer.from(head.join(CRLF) + CRLF + CRLF, 'latin1'), payload])
}

const decodeChunked = (raw: Buffer): Buffer | undefined => {
  const out: Buffer[] = []
  let at = 0
  for (let guard = 0; guard < 100_000; guard++) {
    const eol = raw.indexOf(CRLF, at, 'latin1')
    if (eol < 0) return undefined
    const size = parseInt(raw.subarray(at, eol).toString('latin1').split(';')[0]!.trim(), 16)
    if (!Number.isFinite(size)) return undefined
    at = eol + 2
    if (size === 0) return Buffer.concat(out)
    out.push(raw.subarray(at, at + size))
    at += size + 2
  }
  return undefined
}

/** Parses what the server wrote: the first final (non-1xx) response. */
export const parseResponse = (raw: Buffer): Outcome => {
  let at = 0
  for (let guard = 0; guard < 10; guard++) {
    const end = raw.indexOf('\r\n\r\n', at, 'latin1')
    if (end < 0) return { kind: 'closed', received: raw.length }
    const lines = raw.subarray(at, end).toString('latin1').split(CRLF)
    const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '')
    if (!m) return { kind: 'closed', error: `no status line: ${JSON.stringify(lines[0]?.slice(0, 80))}`, received: raw.length }
    const status = Number(m[1])
    const headers = new Map<string, string[]>()
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      if (colon <= 0) continue
      const name = line.slice(0, colon).trim().toLowerCase()
      const list = headers.get(name) ?? []
      list.push(line.slice(colon + 1).trim())
      headers.set(name, list)
    }
    const bodyStart = end + 4
    if (status >= 100 && status < 200) {
      at = bodyStart
      continue
    }
    const rest = raw.subarray(bodyStart)
    const te = headers.get('transfer-encoding')?.[0]
    const cl = headers.get('content-length')?.[0]
    if (te !== undefined && /chunked/i.test(te)) {
      const body = decodeChunked(rest)
      return body === undefined
        ? { kind: 'closed', error: 'truncated chunked body', received: raw.length }
        : { kind: 'response', status, headers, body, trailing: 0, lengthMismatch: false }
    }
    if (cl !== undefined) {
      const n = Number(cl)
      return { kind: 'response', status, headers, body: rest.subarray(0, n), trailing: Math.max(0, rest.length - n), lengthMismatch: rest.length < n }
    }
    return { kind: 'response', status, headers, body: rest, trailing: 0, lengthMismatch: false }
  }
  return { kind: 'closed', error: 'too many interim responses', received: raw.length }
}

/**
 * Sends the bytes on a fresh connection to 127.0.0.1:port and reads until the server closes it. A HEAD answer has no
 * body whatever its Content-Length says: pass `head` so that it is not read as a truncated body.
 */
export const sendRaw = (port: number, bytes: Buffer, options: { timeoutMs?: number; head?: boolean } = {}): Promise<Outcome> =>
  new Promise((resolve) => {
    const chunks: Buffer[] = []
    let received = 0
    let settled = false
    const socket = connect(port, '127.0.0.1')
    const done = (o: Outcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(o)
    }
    const finish = (error?: string) => {
      const raw = Buffer.concat(chunks)
      const parsed = parseResponse(raw)
      if (parsed.kind === 'response' && options.head) return done({ ...parsed, body: Buffer.alloc(0), trailing: 0, lengthMismatch: false })
      if (parsed.kind === 'closed' && error !== undefined) return done({ kind: 'closed', error, received })
      done(parsed)
    }
    const timer = setTimeout(() => done({ kind: 'timeout', received }), options.timeoutMs ?? 10_000)
    socket.on('data', (c: Buffer) => {
      received += c.length
      chunks.push(c)
    })
    socket.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message))
    socket.on('close', () => finish())
    // No half-close: Node's HTTP server aborts a request whose client ends its side before the answer is written.
    socket.on('connect', () => socket.write(bytes))
  })
