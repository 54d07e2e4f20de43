/**
 * @module issue/identifier-pass-code
 * The IdentifierPassCode mode: the key is read, the attempt takes a place in the pass-code verification queue (a
 * full queue is answered 503 at once), then claims the key and the organisation's identifier before the pass code is
 * verified with scrypt. An unknown identifier costs a dummy verification, so timing does not tell which exist.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from '../task-either.js'
import type { IdentifierPassCode } from '../credentials.js'
import { authError } from '../errors.js'
import { identifierSubject } from '../lockout.js'
import { isAccessTokenUsable, type IdentifierAccessToken } from '../model.js'
import type { QueuePlace } from '../ports.js'
import { claimSubjects, consumerSubject, INVALID_ACCESS_TOKEN, step, type Authenticated, type Failure, type ModeInput } from './attempt.js'
import { authenticateKey } from './key.js'

/** How long a client shed by a full verification queue waits before trying again. */
const QUEUE_FULL_RETRY_SECONDS = 1

const queueFull = {
  ...authError('SERVICEUNAVAILABLE', 'Too many pass-code verifications are in progress; try again shortly'),
  retryAfterSeconds: QUEUE_FULL_RETRY_SECONDS,
}

/** No queue: verifications run as they come. */
const unbounded: QueuePlace = { run: (verification) => verification(), leave: () => undefined }

export const identifierPassCode = (input: ModeInput, c: IdentifierPassCode): TE.TaskEither<Failure, Authenticated> => {
  const { deps, now } = input
  return pipe(
    authenticateKey(deps, c.key),
    TE.flatMap(({ key, user, subject, context }) => {
      const place = deps.passCodeQueue ? deps.passCodeQueue.enter() : unbounded
      if (place === undefined) return TE.left({ error: queueFull, context })
      return pipe(
        claimSubjects(input, context, [subject, identifierSubject(key.organisation, c.identifier)]),
        // Refused before its check: the place goes back at once.
        TE.mapError((failure) => {
          place.leave()
          return failure
        }),
        TE.flatMap((claimed) =>
          pipe(
            step(claimed, () =>
              place.run(async () => {
                const t = await deps.accessTokens.findByIdentifier(key.organisation, c.identifier)
                return t?.passCodeHash ? (await deps.hasher.verify(c.passCode, t.passCodeHash)) && t : deps.hasher.verifyDummy(c.passCode)
              })),
            TE.filterOrElse((t): t is IdentifierAccessToken => t !== false && isAccessTokenUsable(t, now), (): Failure => ({ error: INVALID_ACCESS_TOKEN, context: claimed })),
            TE.map((t): Authenticated => ({ subject: consumerSubject(t, user.username), user, accessTokenId: t.id, key, context: claimed })),
          )),
      )
    }),
  )
}
