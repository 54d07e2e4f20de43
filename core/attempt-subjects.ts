/**
 * @module attempt-subjects
 * Who failed attempts are counted against, built in one place: the use case counts against these subjects and the
 * operator's `lockouts clear` names the same ones, so the two can never disagree on an id.
 */
import type { AttemptSubject } from './ports.js'

/** An identifier's subject: qualified by its organisation, since identifiers are unique only within one. */
export const identifierSubject = (organisation: string, identifier: string): AttemptSubject => ({
  kind: 'identifier',
  id: `${organisation}/${identifier}`,
})
