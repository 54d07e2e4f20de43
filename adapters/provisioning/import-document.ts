/**
 * @module import-document
 * The import file (import.schema.json): its io-ts codec, built from the entry table (entries.ts: every array
 * optional, unknown fields rejected), and the shape of its problems. Every problem is an {@link ImportIssue} naming
 * the entry and field at fault, e.g. `access_tokens[1].pass_code: is mandatory when identifier is given`; all of them
 * are collected, not just the first. The whole-document checks that follow the decoding are import-checks.ts.
 *
 * `import.schema.json` at the repository root is the same contract as JSON Schema; a test holds the two together.
 * Messages never quote a secret (key, authentication code, pass code).
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { formatPath, problemsOf, type CodecProblem } from '../../core/codec.js'
import { entries, entryNames, type Entries, type EntryName } from './entries.js'
import { list, strict } from './import-codecs.js'

export type {
  OrganisationEntry, UnitEntry, UserEntry, WebApiKeyEntry, ConsumerEntry, AccessTokenEntry, IdentityProviderEntry, IdentityLinkEntry,
} from './entries.js'

// ---------------------------------------------------------------------------------------------------------------
// Issues

/** One problem with an import document: where (entry, index, field...) and what. */
export type ImportIssue = CodecProblem

export { formatPath }

/** `access_tokens[1].pass_code: is mandatory when identifier is given` */
export const formatIssue = (issue: ImportIssue): string =>
  issue.path.length === 0 ? issue.message : `${formatPath(issue.path)}: ${issue.message}`

// ---------------------------------------------------------------------------------------------------------------
// The document

type Lists = { readonly [N in EntryName]: t.ArrayC<Entries[N]['codec']> }
const lists = Object.fromEntries(entryNames.map((n) => [n, list(entries[n].codec)])) as unknown as Lists

/** The import file: an optional array of each kind of entry. `$schema` may point editors at import.schema.json; it is otherwise ignored. */
export const ImportDocument = strict('the import document', {}, { $schema: t.string, ...lists })
export type ImportDocument = t.TypeOf<typeof ImportDocument>

/** Shape check of a whole document: every problem, by path. */
export const decodeImportDocument = (u: unknown): E.Either<ReadonlyArray<ImportIssue>, ImportDocument> =>
  E.mapLeft(problemsOf)(ImportDocument.decode(u))
