/**
 * @module binder
 * The typed views of inversify (services.ts) made real: a module's bindings go through a Binder over inversify's
 * `bind`, an override's through one over `rebind`, and factories and callers resolve through a Resolver.
 */
import { ContainerModule, type BindToFluentSyntax, type ServiceIdentifier } from 'inversify'
import type { Binder, Resolver, Service, SyncService } from './services.js'

/** What inversify resolves with (a container, or a factory's resolution context), seen through the typed Resolver. */
interface Resolving {
  get<T>(service: ServiceIdentifier<T>): T
  getAsync<T>(service: ServiceIdentifier<T>): Promise<T>
}

export const resolverOf = (from: Resolving): Resolver => ({
  get: <T>(service: SyncService<T>) => from.get<T>(service),
  getAsync: <T>(service: Service<T>) => from.getAsync<T>(service),
})

type BindStart = <T>(service: ServiceIdentifier<T>) => BindToFluentSyntax<T>

/** The Binder over inversify's `bind` (a module's own bindings) or `rebind` (what replaces them). */
const binderOver = (start: BindStart): Binder => ({
  value: (service, value) => void start(service).toConstantValue(value),
  sync: (service, make) => void start(service).toDynamicValue((ctx) => make(resolverOf(ctx))),
  async: (service, make) => void start(service).toDynamicValue((ctx) => make(resolverOf(ctx))),
})

/** A container module of one adapter family, written against the typed Binder. */
export const serviceModule = (bindAll: (b: Binder) => void): ContainerModule =>
  new ContainerModule(({ bind }) => bindAll(binderOver(bind)))

/** A container module that replaces bindings of the modules loaded before it (a caller's store, clock, logger...). */
export const overridingModule = (rebindAll: (b: Binder) => void): ContainerModule =>
  new ContainerModule(({ rebind }) => rebindAll(binderOver(rebind)))

