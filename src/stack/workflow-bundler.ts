import type { BundleOptions } from '@temporalio/worker';

/**
 * Workflow code is TypeScript with NodeNext-style `.js` import specifiers; the workflow bundler
 * (webpack) must map them back to the `.ts` sources.
 */
export const workflowBundlerOptions: BundleOptions['webpackConfigHook'] = (config) => {
  config.resolve = { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } };
  return config;
};
