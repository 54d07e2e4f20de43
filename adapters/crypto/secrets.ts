/**
 * @module secrets
 * The deployment's secrets in one import: their shape and codec, generation, and loading at start-up.
 */
export {
  base64urlBytes, checkRing, decodeSecrets, describeErrors, MIN_SECRET_BYTES, SecretsCodec, SecretsError, signingAlgorithms,
  type AsymmetricKeySpec, type HmacKeySpec, type PrivateJwk, type Secrets, type SigningAlgorithm, type SigningKeySpec,
} from './secrets-codec.js'
export { generateSecrets, generateSigningKey, newKid } from './generate-secrets.js'
export { loadSecrets, type LoadSecretsOptions } from './load-secrets.js'
