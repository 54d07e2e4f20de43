/**
 * @module task-either
 * The TaskEither combinators the use cases are written with, with fp-ts's names, signatures and meaning (a
 * TaskEither here is fp-ts's `() => Promise<Either<E, A>>`, so values pass freely between the two), implemented
 * for the request path: each step is one `.then`, with no `dual` argument juggling, no extra
 * `Promise.resolve().then(...)` hop per step and no generator-based `__awaiter` in `tryCatch`. On the token route
 * fp-ts's own combinators cost more CPU per request than the whole store.
 *
 * One difference, invisible to callers that run a task with `await` or `.then`: a composed task runs its first
 * step at once when called, where fp-ts defers it by one microtask. A step that throws still gives a rejected
 * Promise, never a synchronous throw.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'

export type { TaskEither }

const run = <E, A>(ma: TaskEither<E, A>): Promise<E.Either<E, A>> => {
  try {
    return ma()
  } catch (e) {
    return Promise.reject(e)
  }
}

export const left = <E = never, A = never>(e: E): TaskEither<E, A> => {
  const value = E.left(e)
  return () => Promise.resolve(value)
}

export const right = <E = never, A = never>(a: A): TaskEither<E, A> => {
  const value = E.right(a)
  return () => Promise.resolve(value)
}

export const of = right

export const fromEither = <E, A>(e: E.Either<E, A>): TaskEither<E, A> => () => Promise.resolve(e)

/** A Promise-returning function as a TaskEither: a rejection (or a synchronous throw) becomes `onRejected(reason)`. */
export const tryCatch =
  <E, A>(f: () => Promise<A>, onRejected: (reason: unknown) => E): TaskEither<E, A> =>
  () => {
    try {
      return f().then(E.right, (reason: unknown) => E.left(onRejected(reason)))
    } catch (reason) {
      return Promise.resolve(E.left(onRejected(reason)))
    }
  }

export const chainW =
  <E2, A, B>(f: (a: A) => TaskEither<E2, B>) =>
  <E1>(ma: TaskEither<E1, A>): TaskEither<E1 | E2, B> =>
  () =>
    run(ma).then((e): E.Either<E1 | E2, B> | Promise<E.Either<E1 | E2, B>> => (e._tag === 'Left' ? e : f(e.right)()))

export const chain: <E, A, B>(f: (a: A) => TaskEither<E, B>) => (ma: TaskEither<E, A>) => TaskEither<E, B> = chainW

export const flatMap = chain

export const chainFirstW =
  <E2, A, B>(f: (a: A) => TaskEither<E2, B>) =>
  <E1>(ma: TaskEither<E1, A>): TaskEither<E1 | E2, A> =>
  () =>
    run(ma).then((e): E.Either<E1 | E2, A> | Promise<E.Either<E1 | E2, A>> =>
      e._tag === 'Left' ? e : f(e.right)().then((b) => (b._tag === 'Left' ? b : e)),
    )

export const chainFirst: <E, A, B>(f: (a: A) => TaskEither<E, B>) => (ma: TaskEither<E, A>) => TaskEither<E, A> = chainFirstW

export const tap = chainFirst

export const chainEitherKW =
  <E2, A, B>(f: (a: A) => E.Either<E2, B>) =>
  <E1>(ma: TaskEither<E1, A>): TaskEither<E1 | E2, B> =>
  () =>
    run(ma).then((e): E.Either<E1 | E2, B> => (e._tag === 'Left' ? e : f(e.right)))

export const chainEitherK: <E, A, B>(f: (a: A) => E.Either<E, B>) => (ma: TaskEither<E, A>) => TaskEither<E, B> = chainEitherKW

export const map =
  <A, B>(f: (a: A) => B) =>
  <E>(ma: TaskEither<E, A>): TaskEither<E, B> =>
  () =>
    run(ma).then((e): E.Either<E, B> => (e._tag === 'Left' ? e : E.right(f(e.right))))

export const mapLeft =
  <E, G>(f: (e: E) => G) =>
  <A>(ma: TaskEither<E, A>): TaskEither<G, A> =>
  () =>
    run(ma).then((e): E.Either<G, A> => (e._tag === 'Left' ? E.left(f(e.left)) : e))

export const orElseW =
  <E1, E2, B>(onLeft: (e: E1) => TaskEither<E2, B>) =>
  <A>(ma: TaskEither<E1, A>): TaskEither<E2, A | B> =>
  () =>
    run(ma).then((e): E.Either<E2, A | B> | Promise<E.Either<E2, A | B>> => (e._tag === 'Left' ? onLeft(e.left)() : e))

export const orElse: <E1, A, E2>(onLeft: (e: E1) => TaskEither<E2, A>) => (ma: TaskEither<E1, A>) => TaskEither<E2, A> = orElseW
