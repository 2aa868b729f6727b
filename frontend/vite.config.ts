/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// In development the Vite server proxies the API to the backend (`make run`, port 8000 by default;
// override with HUIJIA_API=http://127.0.0.1:9000 npm run dev).
const api = process.env.HUIJIA_API ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/graphql': { target: api, changeOrigin: false },
      '/health': { target: api },
      // roster upload, templates, error reports and export downloads (core/members/http.py)
      '/imports': { target: api },
      '/exports': { target: api },
      // the worker portal's download of its own data (core/workers/http.py)
      '/portal': { target: api },
      // procurement's document downloads and the public open-data routes (the /procurement/… pages
      // themselves are the app's)
      '/procurement/bid-documents': { target: api },
      '/procurement/org-documents': { target: api },
      '/public': { target: api },
      // mutual aid's claim documents and enrolment template (the app's own pages are /mutual-aid/…)
      '/mutual_aid': { target: api },
    },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    // Three pages: the staff UI, the worker portal (served by the API under /m/), and GraphiQL
    // (served by the API at GET /graphql outside production).
    rollupOptions: { input: { main: 'index.html', portal: 'portal.html', graphiql: 'graphiql.html' } },
    // Pages and the chart library are lazy-loaded (React.lazy), so Rollup splits them on its own.
    chunkSizeWarningLimit: 1000,
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    // A render of an antd page costs seconds when the machine is busy (ProTable, Form); the tests
    // assert what is shown, never how fast, so the harness limit is generous.
    testTimeout: 30_000,
  },
});
