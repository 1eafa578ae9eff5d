// esbuild plugins for serverless-esbuild (custom.esbuild.plugins in serverless.yml).
//
// consoleAssets: the console function serves the admin console's built files. Run from source,
// functions/console-assets.ts builds them with esbuild on first use; in a deployed bundle there is no esbuild and no
// source, so when packaging, that module is replaced by the files themselves, built here by local/console.ts (run
// with tsx in a child process, as the project's TypeScript runs everywhere else).
const { execFile } = require('node:child_process');
const path = require('node:path');
const { promisify } = require('node:util');

const projectRoot = path.join(__dirname, '..');
const assetsModule = path.join(projectRoot, 'functions', 'console-assets.ts');

async function buildConsoleAssets() {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'local', 'console.ts')], {
    cwd: projectRoot,
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout);
}

const consoleAssets = {
  name: 'console-assets',
  setup(build) {
    build.onLoad({ filter: /[\\/]functions[\\/]console-assets\.ts$/ }, async (args) => {
      if (path.resolve(args.path) !== assetsModule) return undefined;
      const assets = await buildConsoleAssets();
      return {
        contents: `const assets = ${JSON.stringify(assets)};\nexport async function loadConsoleAssets() { return assets; }\n`,
        loader: 'js',
      };
    });
  },
};

module.exports = [consoleAssets];
