/**
 * @module release
 * CRM.COM releases (`R16.2.0`): parse, format, compare numerically, and what each release offers (docs/behaviour.md, the release rules).
 */
import * as E from 'fp-ts/lib/Either.js'

export interface Release {
  readonly major: number
  readonly minor: number
  readonly patch: number
}

const RELEASE = /^R(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$/

export const parseRelease = (s: string): E.Either<string, Release> => {
  const m = RELEASE.exec(s)
  return m
    ? E.right({ major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) })
    : E.left(`"${s}" ${NOT_A_RELEASE}`)
}

export const formatRelease = (r: Release): string => `R${r.major}.${r.minor}.${r.patch}`

export const compareRelease = (a: Release, b: Release): -1 | 0 | 1 => {
  const d = a.major - b.major || a.minor - b.minor || a.patch - b.patch
  return d < 0 ? -1 : d > 0 ? 1 : 0
}

/** The method appears in R15.0.0. */
export const R15_0_0: Release = { major: 15, minor: 0, patch: 0 }
/** `jwt`/`organisation` appear and `key`/`access_token_identifier` become conditional in R16.2.0. */
export const R16_2_0: Release = { major: 16, minor: 2, patch: 0 }
export const DEFAULT_RELEASE = R16_2_0

/** Why a text is not a release, said after the text (which parseRelease quotes, and a caller may name instead). */
export const NOT_A_RELEASE = `is not a CRM.COM release: expected R<major>.<minor>.<patch>, e.g. ${formatRelease(DEFAULT_RELEASE)}`

export interface ReleaseOffer {
  readonly methodAvailable: boolean
  /** `jwt`, `organisation`, keyless authentication codes. */
  readonly identityJwt: boolean
}

export const releaseOffer = (r: Release): ReleaseOffer => ({
  methodAvailable: compareRelease(r, R15_0_0) >= 0,
  identityJwt: compareRelease(r, R16_2_0) >= 0,
})
