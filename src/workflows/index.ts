export { runCase } from './run-case.js';
