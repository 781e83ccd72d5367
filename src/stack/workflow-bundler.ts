import type { BundleOptions } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';

/**
 * Modules loaded once per worker thread and shared by every workflow it runs, instead of once per
 * workflow (the SDK's default): all of the workflow code, with the CEL library's standard environment
 * and the cache of plans with their compiled expressions (src/workflows/shared-plans.ts). None of it
 * keeps per-case state at module level (a case's state lives in its CaseRun), so a cached waiting case
 * holds its own state only.
 */
const SHARED_MODULES = [fileURLToPath(new URL('../workflows/index.ts', import.meta.url))];

/**
 * How the workflow code is bundled, wherever it is (worker, replayer): TypeScript with NodeNext-style
 * `.js` import specifiers, which webpack maps back to the `.ts` sources, and the shared modules.
 */
export const workflowBundlerOptions: Required<Pick<BundleOptions, 'webpackConfigHook' | 'preloadModules'>> = {
  webpackConfigHook: (config) => {
    config.resolve = { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } };
    return config;
  },
  preloadModules: SHARED_MODULES,
};
