/**
 * @module behaviour-doc
 * The generated tables of docs/behaviour.md: the validation matrix, computed by running the core's own
 * resolveCredentials over every combination of the parameters a request can carry, for each release the rules tell
 * apart; and the error catalogue, from the core's errorCatalogue. scripts/write-docs.mjs writes them between their
 * markers; test/ops/behaviour-doc.test.ts fails when the file and the rules disagree.
 */
import * as E from 'fp-ts/lib/Either.js'
import {
  errorCatalogue, errorCode, errorNames, formatRelease, keyOf, noKey, R15_0_0, R16_2_0, resolveCredentials, type Credentials,
  type ErrorName, type Release,
} from '../core/index.js'

export const MATRIX_START = '<!-- matrix:start (generated from core/credentials.ts by scripts/write-docs.mjs; do not edit by hand) -->'
export const MATRIX_END = '<!-- matrix:end -->'
export const ERRORS_START = '<!-- errors:start (generated from core/errors.ts by scripts/write-docs.mjs; do not edit by hand) -->'
export const ERRORS_END = '<!-- errors:end -->'

/** What access_token_identifier holds: absent, or an object with some of its three members. */
const identifierShapes: ReadonlyArray<ReadonlyArray<'authentication_code' | 'identifier' | 'pass_code'> | undefined> = [
  undefined, [], ['authentication_code'], ['identifier'], ['identifier', 'pass_code'], ['authentication_code', 'pass_code'],
  ['authentication_code', 'identifier'], ['pass_code'],
]

const sample = { authentication_code: 'code', identifier: 'maria', pass_code: '4711' } as const

interface Shape {
  readonly key: boolean
  readonly ati: ReadonlyArray<keyof typeof sample> | undefined
  readonly jwt: boolean
  readonly organisation: boolean
  readonly unit: boolean
}

const modeNames: Readonly<Record<Credentials['_tag'], string>> = {
  AuthenticationCode: '**authentication code**',
  IdentifierPassCode: '**identifier + pass code**',
  IdentityJwt: '**identity JWT**',
}

const outcome = (release: Release, s: Shape): string => {
  const body: Record<string, unknown> = {}
  if (s.ati) body['access_token_identifier'] = Object.fromEntries(s.ati.map((m) => [m, sample[m]]))
  if (s.jwt) body['jwt'] = 'a.b.c'
  if (s.organisation) body['organisation'] = 'ps_dev'
  if (s.unit) body['unit'] = '1'
  const r = resolveCredentials(release, { body, key: s.key ? keyOf('EE73C0AE64524371B5DDEFF5F7BB2192') : noKey })
  if (E.isRight(r)) return modeNames[r.right._tag]
  const named = r.left.parameters.length > 0 ? ` (${r.left.parameters.map((p) => `\`${p}\``).join(', ')})` : ''
  return `\`${r.left.name}\`${named}`
}

const yes = (b: boolean) => (b ? '✓' : '')

/**
 * One row per combination; `unit` only where giving it changes an outcome (it is optional everywhere else).
 * Releases: R15.0.0 stands for every release from R15.0.0 up to R16.2.0, R16.2.0 for it and later ones.
 */
export const matrixTable = (): string => {
  const releases = [R15_0_0, R16_2_0]
  const rows: string[] = []
  for (const ati of identifierShapes) {
    for (const key of [true, false]) {
      for (const jwt of [false, true]) {
        for (const organisation of [false, true]) {
          for (const unit of [false, true]) {
            const shape = { key, ati, jwt, organisation, unit }
            const outcomes = releases.map((r) => outcome(r, shape))
            if (unit && outcomes.every((o, i) => o === outcome(releases[i]!, { ...shape, unit: false }))) continue
            const atiCell = ati === undefined ? '' : ati.length === 0 ? '`{}`' : ati.map((m) => `\`${m}\``).join(' + ')
            rows.push(`| ${yes(key)} | ${atiCell} | ${yes(jwt)} | ${yes(organisation)} | ${yes(unit)} | ${outcomes.join(' | ')} |`)
          }
        }
      }
    }
  }
  const head = `| key | access_token_identifier | jwt | organisation | unit | ${releases.map((r) => `from ${formatRelease(r)}`).join(' | ')} |`
  return [head, `|${' --- |'.repeat(5 + releases.length)}`, ...rows].join('\n')
}

export const errorsTable = (): string => {
  const rows = errorNames.map((name: ErrorName) => {
    const e = errorCatalogue[name]
    return `| \`${name}\` | \`${errorCode(name)}\` | ${e.status} | ${e.message} |`
  })
  return ['| name | code | HTTP status | default message |', '|---|---|---|---|', ...rows].join('\n')
}

/** `doc` with the text between `start` and `end` replaced by `table`. */
export const replaceBetween = (doc: string, start: string, end: string, table: string): string => {
  const a = doc.indexOf(start)
  const b = doc.indexOf(end)
  if (a < 0 || b < a) throw new Error(`markers ${start} … ${end} not found`)
  return `${doc.slice(0, a + start.length)}\n${table}\n${doc.slice(b)}`
}

/** The behaviour document with both generated tables as the rules make them now. */
export const renderBehaviourDoc = (doc: string): string =>
  replaceBetween(replaceBetween(doc, MATRIX_START, MATRIX_END, matrixTable()), ERRORS_START, ERRORS_END, errorsTable())
