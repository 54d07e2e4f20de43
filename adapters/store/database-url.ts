/**
 * @module database-url
 * The URL that names a store: `sqlite:PATH`, `postgres://...` (or `postgresql://`), and, for embedding and tests,
 * `memory:`. Parsed here once: the service's settings (composition/config.ts), `openStore(url)` and the verify
 * entry's revocation check all read a URL through these functions. Messages never show a URL's password.
 */
import * as E from 'fp-ts/lib/Either.js'

/** A SQL database: a SQLite file or a PostgreSQL server. */
export type DatabaseUrl =
  | { readonly engine: 'sqlite'; readonly path: string; readonly url: string }
  | { readonly engine: 'postgres'; readonly url: string }

/** Any store a URL can name: a SQL database, or a fresh in-process memory store. */
export type StoreUrl = DatabaseUrl | { readonly engine: 'memory'; readonly url: 'memory:' }

export const parseDatabaseUrl = (s: string): E.Either<string, DatabaseUrl> => {
  if (s.startsWith('sqlite:')) {
    const path = s.slice('sqlite:'.length)
    return path === '' ? E.left('sqlite: needs a file path, e.g. sqlite:./data/consumer-auth.db') : E.right({ engine: 'sqlite', path, url: s })
  }
  if (/^postgres(ql)?:\/\//.test(s)) {
    try {
      new URL(s)
      return E.right({ engine: 'postgres', url: s })
    } catch {
      return E.left('is not a valid postgres:// URL')
    }
  }
  return E.left('must be sqlite:PATH or a postgres:// URL')
}

export const parseStoreUrl = (s: string): E.Either<string, StoreUrl> =>
  s === 'memory:' ? E.right({ engine: 'memory', url: 'memory:' }) : E.mapLeft((why: string) => why.replace(/ URL$/, ' URL, or memory:'))(parseDatabaseUrl(s))

/** The URL as a message may show it: a password replaced by ***. */
export const shownUrl = (url: string): string => url.replace(/(\/\/[^/:@\s]*:)[^@/\s]*@/, '$1***@')
