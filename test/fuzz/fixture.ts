/**
 * @module test/fuzz/fixture
 * What the HTTP fuzz suite runs against: a real listening service (test/security/support.ts: SQLite in a temporary
 * directory, known secrets, the real import path), seeded with every kind of credential the suite needs to tell
 * valid from invalid ones, and identity JWTs (valid ones, and one of each way of being invalid).
 *
 * The seed: organisation ps_dev (the documented example, plus the `maria` identifier, a revoked key, a systemic key,
 * suspended, cancelled, expired and not-yet-valid access tokens, and a unit `2` its user does not belong to), and a
 * second organisation `other_org` with its own key, code and user (units A and B), so that credentials of one
 * organisation must not open the other. Lock-out thresholds are set out of reach: the suite checks that valid
 * credentials are answered 200 throughout, which a lock-out would prevent (lock-outs are the soak's and the crash
 * test's business).
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { generateSecrets } from '../../adapters/crypto/generate-secrets.js'
import { startSecuredService, type SecuredService } from '../security/support.js'
import { EXAMPLE_ARI, EXAMPLE_CII, EXAMPLE_CODE, EXAMPLE_IDENTIFIER, EXAMPLE_IDENTITY_SUBJECT, EXAMPLE_KEY, EXAMPLE_ORGANISATION, EXAMPLE_PASS_CODE, EXAMPLE_UNIT, EXAMPLE_USER } from '../support/example.js'
import { decodeJwtPart } from '../support/jwt.js'

export const OTHER_KEY = '0123456789ABCDEF0123456789ABCDEF'
export const REVOKED_KEY = 'DEADBEEFDEADBEEFDEADBEEFDEADBEEF'
export const SYSTEMIC_KEY = 'FEEDFACEFEEDFACEFEEDFACEFEEDFACE'
export const OTHER_CODE = 'other-code-7Qx9'
export const SUSPENDED_CODE = 'suspended-code-1'
export const CANCELLED_CODE = 'cancelled-code-1'
export const EXPIRED_CODE = 'expired-code-1'
export const FUTURE_CODE = 'future-code-1'
const ISSUER = 'https://id.fuzz.example'
const AUDIENCE = 'crm'

/** The session a valid credential leads to: its organisation, consumer, user and (default) unit. */
export interface Grant {
  readonly org: string
  readonly cii: string
  readonly ari: string
  readonly usr: string
  readonly units: ReadonlyArray<string>
  readonly defaultUnit: string
}

export const PS_DEV: Grant = { org: EXAMPLE_ORGANISATION, cii: EXAMPLE_CII, ari: EXAMPLE_ARI, usr: EXAMPLE_USER, units: [EXAMPLE_UNIT], defaultUnit: EXAMPLE_UNIT }
const OTHER: Grant = { org: 'other_org', cii: 'C0000000000000000000000000000002', ari: 'A0000000000000000000000000000002', usr: 'other_user', units: ['A', 'B'], defaultUnit: 'A' }

/** Key -> the organisation it opens (active consumer application keys only). */
export const ACTIVE_KEYS: ReadonlyMap<string, Grant> = new Map([[EXAMPLE_KEY, PS_DEV], [OTHER_KEY, OTHER]])
/** Authentication code -> the organisation of its EFFECTIVE, currently valid access token. */
export const USABLE_CODES: ReadonlyMap<string, Grant> = new Map([[EXAMPLE_CODE, PS_DEV], [OTHER_CODE, OTHER]])

const nowIso = (offsetSeconds: number) => new Date(Date.now() + offsetSeconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z')

const seedDocument = (idpJwk: object) => ({
  organisations: [
    { id: PS_DEV.org, name: 'PS Dev', consumer_user: PS_DEV.usr },
    { id: OTHER.org, name: 'Other', consumer_user: OTHER.usr },
  ],
  units: [
    { organisation: PS_DEV.org, id: '1', name: 'Head office' },
    { organisation: PS_DEV.org, id: '2', name: 'Branch (the user is not in it)' },
    { organisation: OTHER.org, id: 'A', name: 'A' },
    { organisation: OTHER.org, id: 'B', name: 'B' },
  ],
  users: [
    { organisation: PS_DEV.org, username: PS_DEV.usr, default_unit: '1', units: ['1'] },
    { organisation: OTHER.org, username: OTHER.usr, default_unit: 'A', units: ['A', 'B'] },
  ],
  web_api_keys: [
    { organisation: PS_DEV.org, user: PS_DEV.usr, key: EXAMPLE_KEY, classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE' },
    { organisation: PS_DEV.org, user: PS_DEV.usr, key: REVOKED_KEY, classification: 'CONSUMER_APPLICATION_KEY', status: 'REVOKED' },
    { organisation: PS_DEV.org, user: PS_DEV.usr, key: SYSTEMIC_KEY, classification: 'SYSTEMIC_KEY', status: 'ACTIVE' },
    { organisation: OTHER.org, user: OTHER.usr, key: OTHER_KEY, classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE' },
  ],
  consumers: [
    { organisation: PS_DEV.org, contact_information_id: PS_DEV.cii, accounts_receivable_id: PS_DEV.ari },
    { organisation: OTHER.org, contact_information_id: OTHER.cii, accounts_receivable_id: OTHER.ari },
  ],
  access_tokens: [
    { organisation: PS_DEV.org, accounts_receivable_id: PS_DEV.ari, authentication_code: EXAMPLE_CODE, state: 'EFFECTIVE' },
    { organisation: PS_DEV.org, accounts_receivable_id: PS_DEV.ari, identifier: EXAMPLE_IDENTIFIER, pass_code: EXAMPLE_PASS_CODE, state: 'EFFECTIVE' },
    { organisation: PS_DEV.org, accounts_receivable_id: PS_DEV.ari, authentication_code: SUSPENDED_CODE, state: 'SUSPENDED' },
    { organisation: PS_DEV.org, accounts_receivable_id: PS_DEV.ari, authentication_code: CANCELLED_CODE, state: 'CANCELLED' },
    { organisation: PS_DEV.org, accounts_receivable_id: PS_DEV.ari, authentication_code: EXPIRED_CODE, state: 'EFFECTIVE', valid_from: nowIso(-86_400 * 30), valid_to: nowIso(-86_400) },
    { organisation: PS_DEV.org, accounts_receivable_id: PS_DEV.ari, authentication_code: FUTURE_CODE, state: 'EFFECTIVE', valid_from: nowIso(86_400 * 30) },
    { organisation: OTHER.org, accounts_receivable_id: OTHER.ari, authentication_code: OTHER_CODE, state: 'EFFECTIVE' },
  ],
  identity_providers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [idpJwk] } }],
  identity_links: [{ issuer: ISSUER, subject: EXAMPLE_IDENTITY_SUBJECT, organisation: PS_DEV.org, accounts_receivable_id: PS_DEV.ari }],
})

export interface IdentityTokens {
  /** Verify against the provider and are linked to a consumer of ps_dev. */
  readonly valid: ReadonlyArray<string>
  /** Each invalid in one way (unlinked subject, audience, issuer, expired, not yet valid, alg none, HS256, foreign key, tampered). */
  readonly invalid: ReadonlyArray<string>
}

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')

const identityTokens = async (key: CryptoKey, foreign: CryptoKey, now: number): Promise<IdentityTokens> => {
  const sign = (claims: Record<string, unknown>, k: CryptoKey = key, sub = EXAMPLE_IDENTITY_SUBJECT) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'fuzz-1' }).setIssuer(String(claims['iss'] ?? ISSUER))
      .setAudience(String(claims['aud'] ?? AUDIENCE)).setSubject(sub).setIssuedAt(now).setExpirationTime(Number(claims['exp'] ?? now + 86_400)).sign(k)
  const valid = [await sign({}), await sign({ nonce: 'a' }), await sign({ nonce: 'b', exp: now + 7200 })]
  const [h, p] = valid[0]!.split('.') as [string, string]
  const payload = decodeJwtPart(valid[0]!, 1) as Record<string, unknown>
  const invalid = [
    await sign({}, key, 'u-43'),
    await sign({ aud: 'someone-else' }),
    await sign({ iss: 'https://evil.example' }),
    await sign({ exp: now - 3600 }),
    await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'fuzz-1' }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject(EXAMPLE_IDENTITY_SUBJECT)
      .setNotBefore(now + 3600).setExpirationTime(now + 86_400).sign(key),
    `${b64url({ alg: 'none', typ: 'JWT' })}.${p}.`,
    `${b64url({ alg: 'HS256', typ: 'JWT', kid: 'fuzz-1' })}.${p}.${Buffer.from('x'.repeat(32)).toString('base64url')}`,
    await sign({}, foreign),
    `${h}.${b64url({ ...payload, sub: 'u-99' })}.${valid[0]!.split('.')[2]}`,
    `${h}.${p}.${valid[1]!.split('.')[2]}`,
  ]
  return { valid, invalid }
}

export interface FuzzServiceConfig {
  /** R16.2.0 (keyless codes and identity JWTs) or R15.0.0 (key mandatory, no jwt/organisation). */
  readonly release: 'R16.2.0' | 'R15.0.0'
  readonly httpStatus: 'standard' | 'envelope'
  readonly basePath: string
  /** An ES256 ring: /.well-known/jwks.json is served. */
  readonly jwks: boolean
}

export interface FuzzService {
  readonly cfg: FuzzServiceConfig
  readonly secured: SecuredService
  readonly port: number
  readonly identity: IdentityTokens
  stop(): Promise<void>
}

export const startFuzzService = async (cfg: FuzzServiceConfig): Promise<FuzzService> => {
  const idp = await generateKeyPair('RS256')
  const foreign = await generateKeyPair('RS256')
  const jwk = { ...(await exportJWK(idp.publicKey)), kid: 'fuzz-1', alg: 'RS256', use: 'sig' }
  const secured = await startSecuredService({
    secrets: await generateSecrets(cfg.jwks ? 'ES256' : 'HS256'),
    flags: {
      release: cfg.release,
      'http-status': cfg.httpStatus,
      'base-path': cfg.basePath,
      'lockout-identifier': '1000000',
      'lockout-key': '1000000',
      'lockout-address': '1000000',
    },
  })
  try {
    await secured.import(seedDocument(jwk))
    const identity = await identityTokens(idp.privateKey, foreign.privateKey, secured.clock.nowSeconds())
    return { cfg, secured, port: secured.svc.port, identity, stop: () => secured.stop() }
  } catch (e) {
    await secured.stop()
    throw e
  }
}
