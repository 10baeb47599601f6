import type { Config } from '../config.js'
import type { ClusterCoordination } from '../model/cluster.js'
import { type DataSecrets, loadDataSecrets } from '../store/data-dir/data-secrets.js'

/**
 * The secrets in use: the environment's, else generated once into the data dir;
 * in a cluster the generated ones of the first node to ask, kept in the store,
 * serve every node.
 */
export async function resolveSecrets(
  config: Pick<Config, 'dataDir' | 'jwtSecret' | 'webhookSecret'>,
  cluster?: Pick<ClusterCoordination, 'sharedSecret'>,
): Promise<DataSecrets> {
  const local = loadDataSecrets(config.dataDir)
  const shared = (name: string, proposed: string) =>
    cluster ? cluster.sharedSecret(name, proposed) : proposed
  return {
    jwtSecret: config.jwtSecret ?? (await shared('jwt', local.jwtSecret)),
    webhookSecret: config.webhookSecret ?? (await shared('webhook', local.webhookSecret)),
  }
}
