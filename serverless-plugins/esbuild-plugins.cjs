// esbuild plugins for serverless-esbuild (custom.esbuild.plugins in serverless.yml).
//
// consoleAssets: the console function serves the admin console's built files. Run from source,
// functions/console-assets.ts builds them with esbuild on first use; in a deployed bundle there is no esbuild and no
// source, so when packaging, that module is replaced by the files themselves, built here by local/console.ts.
const path = require('node:path');

const projectRoot = path.join(__dirname, '..');
const assetsModule = path.join(projectRoot, 'functions', 'console-assets.ts');

const consoleAssets = {
  name: 'console-assets',
  setup(build) {
    build.onLoad({ filter: /[\\/]functions[\\/]console-assets\.ts$/ }, async (args) => {
      if (path.resolve(args.path) !== assetsModule) return undefined;
      const { tsImport } = require('tsx/esm/api');
      const { buildConsole } = await tsImport(path.join(projectRoot, 'local', 'console.ts'), __filename);
      const assets = await buildConsole();
      return {
        contents: `const assets = ${JSON.stringify(assets)};\nexport async function loadConsoleAssets() { return assets; }\n`,
        loader: 'js',
      };
    });
  },
};

module.exports = [consoleAssets];
