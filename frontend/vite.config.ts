/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Everything the backend serves; the dev server forwards these so the SPA can use relative URLs.
const backendPaths = ['/api', '/twilio', '/healthz', '/readyz', '/docs', '/openapi.json'];
const apiUrl = process.env.API_URL || 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: Object.fromEntries(
      backendPaths.map((path) => [path, { target: apiUrl, changeOrigin: true, ws: true }]),
    ),
  },
  preview: {
    proxy: Object.fromEntries(backendPaths.map((path) => [path, { target: apiUrl, changeOrigin: true }])),
  },
  build: {
    outDir: 'dist',
    sourcemap: true,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/testing/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
    // Shared, busy machines: a UI flow may take several seconds there.
    testTimeout: 20_000,
  },
});
