/**
 * @module task-either
 * The core's one effect vocabulary: the TaskEither combinators every use case (issue, verify, release) is written
 * with, under fp-ts's current names (flatMap, flatMapEither, tap, map, mapError, orElseW, filterOrElse,
 * fromNullable, tryCatch), signatures and meaning. A TaskEither here is fp-ts's `() => Promise<Either<E, A>>`, so values pass freely between
 * the two, and test/core/task-either.test.ts holds every combinator to fp-ts's over random pipelines. It holds
 * what the use cases use and nothing more (no legacy aliases: chain, chainFirst, mapLeft and the like are gone).
 *
 * Why a module of our own rather than fp-ts's: each step here is one `.then`, with no `dual` argument juggling, no
 * extra `Promise.resolve().then(...)` hop per step and no generator-based `__awaiter` in `tryCatch`. Measured on
 * the issue use case in one process, the same build with only this module swapped for
 * `export * from 'fp-ts/lib/TaskEither.js'` (`npm run bench:micro -- --rounds 7 --ms 2000 --against DIR`, DIR a
 * copy of dist/ with core/task-either.js swapped): this module answered 1.82 and 2.08 times as many requests per
 * second as fp-ts's (medians of two runs of 7 rounds; every round above 1.24), where the same build against an
 * unchanged copy of itself gave 0.97 (rounds 0.68 to 1.06, the noise on the shared machine). docs/architecture.md
 * records the choice.
 *
 * One difference, invisible to callers that run a task with `await` or `.then`: a composed task runs its first
 * step at once when called, where fp-ts defers it by one microtask. A step that throws still gives a rejected
 * Promise, never a synchronous throw.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Predicate } from 'fp-ts/lib/Predicate.js'
import type { Refinement } from 'fp-ts/lib/Refinement.js'
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

export const flatMap =
  <A, E2, B>(f: (a: A) => TaskEither<E2, B>) =>
  <E1>(ma: TaskEither<E1, A>): TaskEither<E1 | E2, B> =>
  () =>
    run(ma).then((e): E.Either<E1 | E2, B> | Promise<E.Either<E1 | E2, B>> => (e._tag === 'Left' ? e : f(e.right)()))

/** `flatMap` for a step that answers at once (an Either): no task, and no promise of its own to adopt. */
export const flatMapEither =
  <A, E2, B>(f: (a: A) => E.Either<E2, B>) =>
  <E1>(ma: TaskEither<E1, A>): TaskEither<E1 | E2, B> =>
  () =>
    run(ma).then((e): E.Either<E1 | E2, B> => (e._tag === 'Left' ? e : f(e.right)))

/** Runs `f` for its failure only: the value goes on unchanged. */
export const tap =
  <A, E2, _>(f: (a: A) => TaskEither<E2, _>) =>
  <E1>(ma: TaskEither<E1, A>): TaskEither<E1 | E2, A> =>
  () =>
    run(ma).then((e): E.Either<E1 | E2, A> | Promise<E.Either<E1 | E2, A>> =>
      e._tag === 'Left' ? e : f(e.right)().then((b) => (b._tag === 'Left' ? b : e)),
    )

export const map =
  <A, B>(f: (a: A) => B) =>
  <E>(ma: TaskEither<E, A>): TaskEither<E, B> =>
  () =>
    run(ma).then((e): E.Either<E, B> => (e._tag === 'Left' ? e : E.right(f(e.right))))

export const mapError =
  <E, G>(f: (e: E) => G) =>
  <A>(ma: TaskEither<E, A>): TaskEither<G, A> =>
  () =>
    run(ma).then((e): E.Either<G, A> => (e._tag === 'Left' ? E.left(f(e.left)) : e))

export const orElseW =
  <E1, E2, B>(onLeft: (e: E1) => TaskEither<E2, B>) =>
  <A>(ma: TaskEither<E1, A>): TaskEither<E2, A | B> =>
  () =>
    run(ma).then((e): E.Either<E2, A | B> | Promise<E.Either<E2, A | B>> => (e._tag === 'Left' ? onLeft(e.left)() : e))

/** A value that fails `predicate` becomes the failure `onFalse(value)`. */
export const filterOrElse: {
  <E, A, B extends A>(refinement: Refinement<A, B>, onFalse: (a: A) => E): (ma: TaskEither<E, A>) => TaskEither<E, B>
  <E, A>(predicate: Predicate<A>, onFalse: (a: A) => E): <B extends A>(mb: TaskEither<E, B>) => TaskEither<E, B>
} =
  <E, A>(predicate: Predicate<A>, onFalse: (a: A) => E) =>
  (ma: TaskEither<E, A>): TaskEither<E, A> =>
  () =>
    run(ma).then((e): E.Either<E, A> => (e._tag === 'Left' || predicate(e.right) ? e : E.left(onFalse(e.right))))

/** A value, or the failure `e` when it is null or undefined: `flatMap(fromNullable(e))` is the look-up that must find. */
export const fromNullable =
  <E>(e: E) =>
  <A>(a: A): TaskEither<E, NonNullable<A>> =>
    a === null || a === undefined ? left(e) : right(a as NonNullable<A>)
