import type { BundleOptions } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import type { RuleSetRule } from 'webpack';

/**
 * Modules loaded once per worker thread and shared by every workflow it runs, instead of once per
 * workflow (the SDK's default): all of the workflow code, with the CEL library's standard environment
 * and the cache of plans with their compiled expressions (src/workflows/shared-plans.ts). None of it
 * keeps per-case state at module level (a case's state lives in its CaseRun), so a cached waiting case
 * holds its own state only.
 */
const SHARED_MODULES = [fileURLToPath(new URL('../workflows/index.ts', import.meta.url))];

/**
 * The SDK compiles workflow TypeScript for ES2017, which turns every object spread and optional chain
 * into helper calls; the Node versions Casebook runs on (20 and later) run ES2022 natively, and the
 * interpreter spreads objects on every activation.
 */
const WORKFLOW_TARGET = 'es2022';

function withNativeSyntax(rule: RuleSetRule): RuleSetRule {
  const use = rule.use as { loader?: string; options?: { jsc?: Record<string, unknown> } } | undefined;
  if (!use?.loader?.includes('swc-loader') || !use.options?.jsc) return rule;
  return { ...rule, use: { ...use, options: { ...use.options, jsc: { ...use.options.jsc, target: WORKFLOW_TARGET } } } };
}

/**
 * How the workflow code is bundled, wherever it is (worker, replayer): TypeScript with NodeNext-style
 * `.js` import specifiers, which webpack maps back to the `.ts` sources, compiled for ES2022, and the
 * shared modules.
 */
export const workflowBundlerOptions: Required<Pick<BundleOptions, 'webpackConfigHook' | 'preloadModules'>> = {
  webpackConfigHook: (config) => {
    config.resolve = { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } };
    if (config.module?.rules) config.module.rules = config.module.rules.map((rule) => (rule && typeof rule === 'object' ? withNativeSyntax(rule) : rule));
    return config;
  },
  preloadModules: SHARED_MODULES,
};
