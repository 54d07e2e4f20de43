/**
 * @module issue/authentication-code
 * The AuthenticationCode mode: with a key, the code is looked up in the key's organisation and the attempt is
 * counted against the key; keyless (R16.2.0+), the code alone names the organisation and the attempt is counted
 * against the client address. Either way the subject is claimed before the code is looked up (the look-up is the
 * credential's check), and only usable access tokens take part: the code must match exactly one of them.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from '../task-either.js'
import type { AuthenticationCode } from '../credentials.js'
import { addressSubject } from '../lockout.js'
import { isAccessTokenUsable, type AccessToken } from '../model.js'
import {
  claimSubjects, consumerSubject, emptyContext, failWith, INVALID_ACCESS_TOKEN, step, userOf, type AttemptContext, type Authenticated,
  type Failure, type ModeInput,
} from './attempt.js'
import { authenticateKey } from './key.js'

/** The one usable token among those with the code; a cancelled or suspended one elsewhere does not make it ambiguous. */
const theUsableToken = (context: AttemptContext, now: number) => (ts: ReadonlyArray<AccessToken>): E.Either<Failure, AccessToken> => {
  const usable = ts.filter((t) => isAccessTokenUsable(t, now))
  return usable.length === 1 ? E.right(usable[0]!) : E.left({ error: INVALID_ACCESS_TOKEN, context })
}

export const authenticationCode = (input: ModeInput, c: AuthenticationCode, clientAddress: string): TE.TaskEither<Failure, Authenticated> => {
  const { deps, now } = input
  // Digested when it is looked up: not at all for a request refused on its key or a lock-out.
  const codeDigest = () => deps.digest.digest(c.authenticationCode)
  if (c.key !== undefined) {
    return pipe(
      authenticateKey(deps, c.key),
      TE.flatMap(({ key, user, subject, context }) =>
        pipe(
          claimSubjects(input, context, [subject]),
          TE.flatMap((claimed) =>
            pipe(
              step(claimed, () => deps.accessTokens.findByAuthenticationCode(codeDigest(), key.organisation)),
              TE.flatMapEither(theUsableToken(claimed, now)),
              TE.map((t): Authenticated => ({ subject: consumerSubject(t, user.username), user, accessTokenId: t.id, key, context: claimed })),
            )),
        )),
    )
  }
  return pipe(
    claimSubjects(input, emptyContext, [addressSubject(clientAddress)]),
    TE.flatMap((claimed) =>
      pipe(
        step(claimed, () => deps.accessTokens.findByAuthenticationCode(codeDigest())),
        TE.flatMapEither(theUsableToken(claimed, now)),
        TE.flatMap((t) => {
          const context = { ...claimed, organisation: t.organisation }
          // The user keyless sessions run as: the organisation's consumer user.
          return pipe(
            step(context, () => deps.directory.findOrganisation(t.organisation)),
            TE.flatMap(TE.fromNullable<Failure>({ error: INVALID_ACCESS_TOKEN, context })),
            TE.flatMap((o) => pipe(userOf(deps, o.id, o.consumerUser, INVALID_ACCESS_TOKEN), TE.mapError(failWith(context)))),
            TE.map((user): Authenticated => ({ subject: consumerSubject(t, user.username), user, accessTokenId: t.id, context })),
          )
        }),
      )),
  )
}
