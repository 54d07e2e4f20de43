/**
 * @module issue/identity-jwt
 * The IdentityJwt mode (R16.2.0+): the attempt is claimed against the client address, then the organisation is
 * read, the identity provider's JWT verified and its subject's link to a consumer of the organisation looked up;
 * the session runs as the organisation's consumer user.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from '../task-either.js'
import type { IdentityJwt } from '../credentials.js'
import { addressSubject } from '../lockout.js'
import { fromPort, type IdentityVerification } from '../ports.js'
import {
  claimSubjects, emptyContext, failWith, INVALID_IDENTITY, INVALID_ORGANISATION, step, userOf, type Authenticated, type Failure,
  type ModeInput,
} from './attempt.js'

type Verified = Extract<IdentityVerification, { readonly ok: true }>

export const identityJwt = (input: ModeInput, c: IdentityJwt, clientAddress: string): TE.TaskEither<Failure, Authenticated> => {
  const { deps } = input
  return pipe(
    claimSubjects(input, emptyContext, [addressSubject(clientAddress)]),
    TE.flatMap((claimed) =>
      pipe(
        step(claimed, () => deps.directory.findOrganisation(c.organisation)),
        TE.flatMap(TE.fromNullable<Failure>({ error: INVALID_ORGANISATION, context: claimed })),
        TE.flatMap((o) => {
          const context = { ...claimed, organisation: o.id }
          return pipe(
            fromPort(() => deps.identity.verify(c.jwt)),
            TE.filterOrElse((v): v is Verified => v.ok, () => INVALID_IDENTITY),
            TE.flatMap(({ identity: id }) => fromPort(() => deps.identityLinks.findConsumer(id.issuer, id.subject, o.id))),
            TE.flatMap(TE.fromNullable(INVALID_IDENTITY)),
            TE.flatMap((consumer) =>
              pipe(
                userOf(deps, o.id, o.consumerUser, INVALID_IDENTITY),
                TE.map((user): Authenticated => ({
                  subject: { contactInformationId: consumer.contactInformationId, accountsReceivableId: consumer.accountsReceivableId, username: user.username, organisation: o.id },
                  user,
                  context,
                })),
              )),
            TE.mapError(failWith(context)),
          )
        }),
      )),
  )
}
