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

// ssmClientModules: lib/adapters/ssm-client.ts is imported on first use, so esbuild keeps whole every module it
// reaches; through the package's index that is every SSM command (≈ 170 KB). Packaged, it imports the client and the
// one command it uses from their ES modules instead (≈ 77 KB). Run from source, the index (CommonJS) is what loads.
const ssmClientModule = path.join(projectRoot, 'lib', 'adapters', 'ssm-client.ts');
const SSM_INDEX_IMPORT = "import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';";
const SSM_MODULE_IMPORTS =
  "import { GetParameterCommand } from '@aws-sdk/client-ssm/dist-es/commands/GetParameterCommand.js';\n" +
  "import { SSMClient } from '@aws-sdk/client-ssm/dist-es/SSMClient.js';";

const ssmClientModules = {
  name: 'ssm-client-modules',
  setup(build) {
    build.onLoad({ filter: /[\\/]lib[\\/]adapters[\\/]ssm-client\.ts$/ }, async (args) => {
      if (path.resolve(args.path) !== ssmClientModule) return undefined;
      const source = await require('node:fs/promises').readFile(args.path, 'utf8');
      if (!source.includes(SSM_INDEX_IMPORT)) throw new Error(`${args.path} no longer imports the SSM client as this plugin expects`);
      return { contents: source.replace(SSM_INDEX_IMPORT, SSM_MODULE_IMPORTS), loader: 'ts' };
    });
  },
};

module.exports = [consoleAssets, ssmClientModules];
