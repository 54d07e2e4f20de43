/**
 * @module modules/crypto
 * The crypto and signing family: the secrets (inline, a file, or generated once outside production), the keyed
 * digest with the deployment's pepper, the pass-code hasher and its bounded queue, session ids, and the signing key
 * ring (reloaded on SIGHUP from the same source).
 */
import { dirname, join } from 'node:path'
import { hmacDigest } from '../../adapters/crypto/hmac-digest.js'
import { loadSecrets } from '../../adapters/crypto/load-secrets.js'
import { scryptHasher } from '../../adapters/crypto/scrypt-hasher.js'
import type { Secrets } from '../../adapters/crypto/secrets-codec.js'
import { randomSessionIds } from '../../adapters/crypto/session-ids.js'
import { boundedVerificationQueue, verificationBounds } from '../../adapters/crypto/verification-queue.js'
import type { Config } from '../config.js'
import { serviceModule } from '../binder.js'
import { TYPES } from '../services.js'

/** Where generated secrets live on the embedded default: ./data/secrets.json (beside the default database). */
export const defaultSecretsPath = (config: Config): string =>
  config.db.engine === 'sqlite' ? join(dirname(config.db.path), 'secrets.json') : join('data', 'secrets.json')

export const cryptoModule = serviceModule((b) => {
  b.sync(TYPES.SecretsFile, (r) => {
    const config = r.get(TYPES.Config)
    return config.secretsFile ?? defaultSecretsPath(config)
  })
  b.sync(TYPES.SecretsSource, (r) => {
    const config = r.get(TYPES.Config)
    const log = r.get(TYPES.Logger)
    return () =>
      loadSecrets({
        ...(config.secrets === undefined ? {} : { inline: config.secrets }),
        ...(config.secretsFile === undefined ? {} : { file: config.secretsFile }),
        ...(config.production ? {} : { generateInto: defaultSecretsPath(config) }),
        production: config.production,
        generateAlg: config.signingAlg,
        onGenerated: (path) =>
          log.info({ path }, `generated the secrets (signing key ring and digest pepper) into ${path}: keep the file, back it up, give it as SECRETS_FILE in production`),
      })
  })
  b.async(TYPES.Secrets, (r) => r.get(TYPES.SecretsSource)())
  b.async(TYPES.Digest, async (r) => hmacDigest(Buffer.from((await r.getAsync(TYPES.Secrets)).pepper, 'base64url')))
  b.sync(TYPES.Hasher, () => scryptHasher())
  b.value(TYPES.Ids, randomSessionIds)
  b.sync(TYPES.PassCodeQueue, (r) => {
    const config = r.get(TYPES.Config)
    return boundedVerificationQueue(verificationBounds({ capacity: config.passCodeQueue, concurrency: config.passCodeConcurrency }))
  })
  // Imported when first resolved: the CLI's commands, which resolve only the store and the import dependencies,
  // then do not load jose.
  b.async(TYPES.KeyRing, async (r) => {
    const { createReloadableKeyRing } = await import('../../adapters/crypto/reloadable-key-ring.js')
    // The first ring is built from the secrets already loaded; a reload (SIGHUP) asks their source again.
    const source = r.get(TYPES.SecretsSource)
    let first: Promise<Secrets> | undefined = r.getAsync(TYPES.Secrets)
    const load = () => {
      const next = first ?? source()
      first = undefined
      return next
    }
    return createReloadableKeyRing(load, r.get(TYPES.Clock))
  })
})
