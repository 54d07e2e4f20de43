/**
 * @module model
 * The entities of the storage rules (docs/behaviour.md) as the core sees them. Secrets appear only as digests or hashes: a key and an
 * authentication code as keyed digests (hex), a pass code as a self-describing scrypt hash string.
 */

export interface Organisation {
  readonly id: string
  readonly name: string
  /** The user that keyless and identity-JWT sessions run as. */
  readonly consumerUser: string
}

export interface Unit {
  readonly organisation: string
  readonly id: string
  readonly name: string
}

export interface User {
  readonly organisation: string
  readonly username: string
  readonly defaultUnit?: string
  readonly units: ReadonlyArray<string>
}

export const keyClassifications = ['CONSUMER_APPLICATION_KEY', 'SYSTEMIC_KEY'] as const
export type KeyClassification = (typeof keyClassifications)[number]
export const keyStatuses = ['ACTIVE', 'REVOKED'] as const
export type KeyStatus = (typeof keyStatuses)[number]

export interface WebApiKey {
  /** Keyed digest of the key: the only form in which a key is stored. */
  readonly digest: string
  /** The first characters of the key (keyPrefix), to recognise it in lists and logs. */
  readonly prefix: string
  readonly organisation: string
  readonly user: string
  readonly classification: KeyClassification
  readonly status: KeyStatus
}

/** How many characters (code points) of a key its prefix shows (docs/behaviour.md, the storage rules). */
export const KEY_PREFIX_LENGTH = 6

/**
 * The display prefix of a Web API key, stored with the key and written into its audit events: its first
 * KEY_PREFIX_LENGTH code points, so that a character outside the BMP is never cut in half (a lone surrogate).
 */
export const keyPrefix = (key: string): string => {
  let prefix = ''
  let n = 0
  for (const c of key) {
    if (n++ === KEY_PREFIX_LENGTH) break
    prefix += c
  }
  return prefix
}

export interface Consumer {
  readonly organisation: string
  readonly contactInformationId: string
  readonly accountsReceivableId: string
}

export const accessTokenStates = ['EFFECTIVE', 'SUSPENDED', 'CANCELLED'] as const
export type AccessTokenState = (typeof accessTokenStates)[number]

interface AccessTokenCommon {
  /** Stable id of the access token (recorded with the sessions it produced). */
  readonly id: string
  readonly organisation: string
  readonly consumer: Consumer
  readonly state: AccessTokenState
  /** Validity window in seconds since the epoch; either bound may be open. */
  readonly validFrom?: number
  readonly validTo?: number
}

/** An access token presented by its authentication code (AuthenticationCode mode). */
export interface CodeAccessToken extends AccessTokenCommon {
  readonly authenticationCodeDigest: string
  readonly identifier?: never
  readonly passCodeHash?: never
}

/** An access token presented by its identifier and pass code (IdentifierPassCode mode). */
export interface IdentifierAccessToken extends AccessTokenCommon {
  readonly identifier: string
  readonly passCodeHash: string
  readonly authenticationCodeDigest?: never
}

/**
 * A stored access token holds exactly one credential (docs/behaviour.md, the storage rules): an authentication code,
 * or an identifier with its pass code. The type says so, so that no store or import can make one with both or none.
 */
export type AccessToken = CodeAccessToken | IdentifierAccessToken

export interface IdentityProvider {
  readonly issuer: string
  readonly audience: string
  /** A JWKS document (`{"keys": [...]}`). */
  readonly jwks: { readonly keys: ReadonlyArray<Record<string, unknown>> }
}

export interface IdentityLink {
  readonly issuer: string
  readonly subject: string
  readonly organisation: string
  readonly accountsReceivableId: string
}

/** Is the access token one that may log in now (docs/behaviour.md, the method: authentication)? */
export const isAccessTokenUsable = (t: AccessToken, nowSeconds: number): boolean =>
  t.state === 'EFFECTIVE' &&
  (t.validFrom === undefined || nowSeconds >= t.validFrom) &&
  (t.validTo === undefined || nowSeconds < t.validTo)
