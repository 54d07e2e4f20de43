/**
 * Helpers of the verification tests (SPEC 5, 6): tokens from a running service, the service's secrets file, tokens
 * forged in every way a verifier must refuse, the three carriers of a session token, and the service's store.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { buildClaims, newSession, type ConsumerSession, type SessionSubject } from '../../core/index.js'
import { systemClock } from '../../adapters/clock/system-clock.js'
import { createKeyRing } from '../../adapters/crypto/create-key-ring.js'
import { hmacDigest } from '../../adapters/crypto/hmac-digest.js'
import { scryptHasher } from '../../adapters/crypto/scrypt-hasher.js'
import type { Secrets, SigningKeySpec } from '../../adapters/crypto/secrets-codec.js'
import { importDocument } from '../../adapters/provisioning/import.js'
import { openSqlStore } from '../../adapters/store/sql/open-store.js'
import type { Store } from '../../adapters/store/store.js'
import { postToken, rawRequest, type RawResponse, type TestService } from '../support/service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY, EXAMPLE_SUBJECT } from '../support/example.js'
import { decodeJwtPart } from '../support/jwt.js'

/** A token of the documented example (or of another body), asserting that it was issued. */
export const issueToken = async (url: string, body: string = EXAMPLE_BODY, headers: Record<string, string> = { Authorization: EXAMPLE_AUTHORIZATION }): Promise<string> => {
  const r = await postToken(url, body, headers)
  expect(r.status, r.text).toBe(200)
  return r.json.data.token as string
}

export const kidOf = (token: string): unknown => decodeJwtPart(token, 0).kid

// -- the service's secrets file ------------------------------------------------------------------------------------

export const secretsPath = (svc: Pick<TestService, 'dir'>): string => join(svc.dir, 'secrets.json')
export const readSecrets = (path: string): Secrets => JSON.parse(readFileSync(path, 'utf8')) as Secrets

/** Replaces the file in one step (as an operator's editor or config management should), mode 0600. */
export const writeSecrets = (path: string, secrets: Secrets | string): void => {
  const temp = `${path}.${process.pid}.tmp`
  writeFileSync(temp, typeof secrets === 'string' ? secrets : `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 })
  renameSync(temp, path)
}

/** An HS256 key spec with a fresh random secret. */
export const hs256Key = (kid: string, retiredAt?: number): SigningKeySpec => ({
  kid, alg: 'HS256', secret: randomBytes(32).toString('base64url'), ...(retiredAt === undefined ? {} : { retiredAt }),
})

// -- tokens a verifier must refuse ----------------------------------------------------------------------------------

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')

const sessionOf = (issuedAt: number, subject: SessionSubject = EXAMPLE_SUBJECT): ConsumerSession =>
  newSession(subject, '1', issuedAt, randomBytes(16).toString('hex').toUpperCase())

/** A token signed by `key` (made the only, active key of a ring of its own), for a session issued at `issuedAt`. */
export const signWith = async (key: SigningKeySpec, issuedAt: number = systemClock.nowSeconds(), subject: SessionSubject = EXAMPLE_SUBJECT): Promise<string> => {
  const { retiredAt: _retired, ...active } = key
  const ring = await createKeyRing({ signingKeys: [active as SigningKeySpec], activeKid: key.kid }, systemClock)
  return ring.signer.sign(buildClaims(sessionOf(issuedAt, subject)))
}

/**
 * The tokens of the brief that must be refused with INVALIDTOKEN, made from a valid token of the service and its
 * secrets. `retiredKey` is a key of the service's ring whose retiredAt + 7230 has passed.
 */
export const badTokens = async (good: string, secrets: Secrets, retiredKey: SigningKeySpec): Promise<ReadonlyArray<readonly [string, string]>> => {
  const [header, payload, signature] = good.split('.') as [string, string, string]
  const claims = decodeJwtPart(good, 1)
  const active = secrets.signingKeys.find((k) => k.kid === secrets.activeKid)!
  const tamperedPayload = b64({ ...claims, ari: '7C1D0A2B3E4F405162738495A6B7C8D9' })
  const flipped = signature.slice(0, -2) + (signature.slice(-2, -1) === 'A' ? 'B' : 'A') + signature.slice(-1)
  return [
    ['tampered (payload changed, signature kept)', `${header}.${tamperedPayload}.${signature}`],
    ['tampered (signature changed)', `${header}.${payload}.${flipped}`],
    ['expired (exp + 30 s passed)', await signWith(active, systemClock.nowSeconds() - 7200 - 31)],
    ['wrongly signed (the active kid, another secret)', await signWith(hs256Key(secrets.activeKid))],
    ['alg none, no signature', `${b64({ typ: 'JWT', alg: 'none', kid: secrets.activeKid })}.${payload}.`],
    ['alg none, with the original signature', `${b64({ typ: 'JWT', alg: 'none', kid: secrets.activeKid })}.${payload}.${signature}`],
    ['signed by a retired key whose tokens have all expired', await signWith(retiredKey)],
    ['an unknown kid', await signWith(hs256Key('no-such-kid'))],
    ['no kid', `${b64({ typ: 'JWT', alg: 'HS256' })}.${payload}.${signature}`],
    ['not a JWT', 'not-a-jwt'],
  ]
}

// -- the three carriers --------------------------------------------------------------------------------------------

export type Carrier = 'query' | 'body' | 'bearer'
export const CARRIERS: ReadonlyArray<Carrier> = ['query', 'body', 'bearer']

/** Sends `token` to `path` by one carrier: `?token=`, `{"token": ...}` as a JSON body, or `Authorization: Bearer`. */
export const sendToken = (url: string, path: string, carrier: Carrier, token: string, method = 'GET'): Promise<RawResponse> => {
  switch (carrier) {
    case 'query':
      return rawRequest(url, { method, path: `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` })
    case 'body': {
      // With its length: Node's client sends a GET body without Content-Length or chunking unless told.
      const body = JSON.stringify({ token })
      return rawRequest(url, { method, path, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, body })
    }
    case 'bearer':
      return rawRequest(url, { method, path, headers: { authorization: `Bearer ${token}` } })
  }
}

export const expectInvalidToken = (r: RawResponse): void => {
  expect(r.status, r.text).toBe(401)
  expect(r.json).toMatchObject({ data: null, status: { code: 'COM.CRM.EXCEPTION.AUTHENTICATION.INVALIDTOKENEXCEPTION', description: 'INVALIDTOKEN' } })
  expect(r.json.status.message).toMatch(/token/i)
}

// -- the service's store -----------------------------------------------------------------------------------------

/** A second connection to the service's SQLite file, as the CLI would open it. */
export const openServiceStore = (svc: Pick<TestService, 'dir'>): Promise<Store> =>
  openSqlStore({ engine: 'sqlite', path: join(svc.dir, 'consumer-auth.db'), url: `sqlite:${join(svc.dir, 'consumer-auth.db')}` })

/** The keyed digest of the service (HMAC with the pepper of its secrets file): how keys and codes are looked up. */
export const serviceDigest = (svc: Pick<TestService, 'dir'>) => hmacDigest(Buffer.from(readSecrets(secretsPath(svc)).pepper, 'base64url'))

export const SECOND_CONSUMER: SessionSubject & { readonly code: string } = {
  contactInformationId: 'C2C2C2C2C2C2C2C2C2C2C2C2C2C2C2C2',
  accountsReceivableId: '7C1D0A2B3E4F405162738495A6B7C8D9',
  username: 'maytemplate',
  organisation: 'ps_dev',
  code: 'second-consumer-Xq7f9LzP2mVw',
}

/** Adds a second consumer of ps_dev with its own authentication code, through the import of SPEC 9. */
export const provisionSecondConsumer = async (svc: Pick<TestService, 'dir'>): Promise<void> => {
  const store = await openServiceStore(svc)
  try {
    const r = await importDocument(
      store,
      {
        consumers: [{ organisation: 'ps_dev', contact_information_id: SECOND_CONSUMER.contactInformationId, accounts_receivable_id: SECOND_CONSUMER.accountsReceivableId }],
        access_tokens: [{ organisation: 'ps_dev', accounts_receivable_id: SECOND_CONSUMER.accountsReceivableId, authentication_code: SECOND_CONSUMER.code, state: 'EFFECTIVE' }],
      },
      { digest: serviceDigest(svc), hasher: scryptHasher(), clock: systemClock },
    )
    expect(r._tag, JSON.stringify(r)).toBe('Right')
  } finally {
    await store.close()
  }
}

export const codeBody = (code: string): string => JSON.stringify({ access_token_identifier: { authentication_code: code }, unit: '1' })
