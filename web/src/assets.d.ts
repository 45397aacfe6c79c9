// esbuild bundles imported stylesheets into the page's one CSS file (scripts/build-ui.mjs).
declare module '*.css';
