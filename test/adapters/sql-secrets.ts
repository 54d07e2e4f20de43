/**
 * Columns that could hold a clear-text secret. Secrets reach the SQL stores only as keyed digests (`digest`,
 * `*_digest`) or scrypt hashes (`*_hash`); a column otherwise named after a key, code, pass code, password, secret
 * or token is a problem. (`prefix` holds the first characters of a key, shown in lists: not a secret.)
 */
const secretish = /(^|_)(key|code|pass|passcode|password|secret|token|pepper)(_|$)/
const allowed = /(^|_)(digest|hash|id|ids|prefix|state)$/

/** table.column names that look like they could hold a secret in clear. */
export const secretColumnProblems = (qualifiedColumns: ReadonlyArray<string>): string[] =>
  qualifiedColumns.filter((qc) => {
    const column = qc.split('.').at(-1) ?? qc
    return secretish.test(column) && !allowed.test(column)
  })
