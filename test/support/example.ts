/**
 * The documented example of the method (docs/behaviour.md), the one place the tests take it from: the organisation
 * ps_dev with its user maytemplate and unit 1, the consumer application key, the consumer, its authentication code and
 * the `maria` identifier token, the identity-provider link; the request exactly as CRM.COM shows it, the token it
 * documents, and the import document that provisions all of it (docs/operations.md, verbatim).
 */
import type { Consumer, SessionClaims, SessionSubject } from '../../core/index.js'

export const EXAMPLE_KEY = 'EE73C0AE64524371B5DDEFF5F7BB2192'
/** The key as CRM.COM shows it in its Authorization header (Basic, the key as username, no password). */
export const EXAMPLE_AUTHORIZATION = 'Basic RUU3M0MwQUU2NDUyNDM3MUI1RERFRkY1RjdCQjIxOTI6'
export const EXAMPLE_CODE = 'p_kestora1!'
export const EXAMPLE_IDENTIFIER = 'maria'
export const EXAMPLE_PASS_CODE = '4711'
export const EXAMPLE_ORGANISATION = 'ps_dev'
export const EXAMPLE_USER = 'maytemplate'
export const EXAMPLE_UNIT = '1'
export const EXAMPLE_CII = '2695FED3FCFD4084AB39F44B18889123'
export const EXAMPLE_ARI = '261BF2B79198401D89A79C545F16CBEC'
export const EXAMPLE_ISSUER = 'https://id.example.com'
export const EXAMPLE_AUDIENCE = 'crm'
/** The identity provider's subject linked to the example's consumer. */
export const EXAMPLE_IDENTITY_SUBJECT = 'u-42'

/** The documented request body, byte for byte. */
export const EXAMPLE_BODY = '{"access_token_identifier":{"authentication_code":"p_kestora1!"},"unit":"1"}'

/** The secrets of the example, which must never come back out of a store, a log or an answer. */
export const EXAMPLE_SECRETS: ReadonlyArray<string> = [EXAMPLE_KEY, EXAMPLE_CODE, EXAMPLE_PASS_CODE]

/**
 * Whether `text` shows `secret`. A short secret (the pass code 4711) also turns up by chance inside random hex (a
 * session id, a digest), so one shorter than 8 characters counts only as a whole word; a longer one anywhere.
 */
export const showsSecret = (text: string, secret: string): boolean => {
  if (secret.length >= 8) return text.includes(secret)
  const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`(?<![0-9A-Za-z])${escaped}(?![0-9A-Za-z])`).test(text)
}

export const EXAMPLE_CONSUMER: Consumer = { organisation: EXAMPLE_ORGANISATION, contactInformationId: EXAMPLE_CII, accountsReceivableId: EXAMPLE_ARI }

/** Who the example's session is for and runs as. */
export const EXAMPLE_SUBJECT: SessionSubject = { contactInformationId: EXAMPLE_CII, accountsReceivableId: EXAMPLE_ARI, username: EXAMPLE_USER, organisation: EXAMPLE_ORGANISATION }

/** The claims every token of the example carries, whenever it is issued: all but the times and the session id. */
export const EXAMPLE_SESSION_CLAIMS = { cii: EXAMPLE_CII, usr: EXAMPLE_USER, org: EXAMPLE_ORGANISATION, ari: EXAMPLE_ARI, oun: EXAMPLE_UNIT } as const

/** The claims of the documented token, in its order, with string times as CRM.COM shows them. */
export const EXAMPLE_CLAIMS: SessionClaims = { ...EXAMPLE_SESSION_CLAIMS, exp: '1518104864', iat: '1518097664', jti: 'F586B288048A4100B749E62F47DFC844' }

/** The documented token's payload, byte for byte. */
export const EXAMPLE_PAYLOAD =
  '{"cii":"2695FED3FCFD4084AB39F44B18889123","usr":"maytemplate","org":"ps_dev","ari":"261BF2B79198401D89A79C545F16CBEC","oun":"1","exp":"1518104864","iat":"1518097664","jti":"F586B288048A4100B749E62F47DFC844"}'

/** The example's import document, verbatim (with the `maria` identifier token); a fresh copy each call. */
export const exampleDocument = () => ({
  organisations: [{ id: EXAMPLE_ORGANISATION, name: 'PS Dev', consumer_user: EXAMPLE_USER }],
  units: [{ organisation: EXAMPLE_ORGANISATION, id: EXAMPLE_UNIT, name: 'Head office' }],
  users: [{ organisation: EXAMPLE_ORGANISATION, username: EXAMPLE_USER, default_unit: EXAMPLE_UNIT, units: [EXAMPLE_UNIT] }],
  web_api_keys: [{ organisation: EXAMPLE_ORGANISATION, user: EXAMPLE_USER, key: EXAMPLE_KEY, classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE' }],
  consumers: [{ organisation: EXAMPLE_ORGANISATION, contact_information_id: EXAMPLE_CII, accounts_receivable_id: EXAMPLE_ARI }],
  access_tokens: [
    { organisation: EXAMPLE_ORGANISATION, accounts_receivable_id: EXAMPLE_ARI, authentication_code: EXAMPLE_CODE, state: 'EFFECTIVE' },
    {
      organisation: EXAMPLE_ORGANISATION, accounts_receivable_id: EXAMPLE_ARI, identifier: EXAMPLE_IDENTIFIER, pass_code: EXAMPLE_PASS_CODE, state: 'EFFECTIVE',
      valid_from: '2026-01-01T00:00:00Z', valid_to: null,
    },
  ],
  identity_providers: [{ issuer: EXAMPLE_ISSUER, audience: EXAMPLE_AUDIENCE, jwks: { keys: [] } }],
  identity_links: [{ issuer: EXAMPLE_ISSUER, subject: EXAMPLE_IDENTITY_SUBJECT, organisation: EXAMPLE_ORGANISATION, accounts_receivable_id: EXAMPLE_ARI }],
})
