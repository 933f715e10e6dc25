import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.{ts,tsx}'],
		pool: 'forks',
		testTimeout: 60_000,
		hookTimeout: 180_000,
		globalSetup: ['test/global-setup.ts'],
	},
});
