// @vitest-environment node
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });

/** The boundary messages ESLint reports for `code` as if it lived at `filePath`. */
async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('module boundaries (eslint.config.js)', () => {
  it('refuses a feature importing another feature, by alias or by a relative path', async () => {
    expect(await boundaryErrors('src/features/team/components/X.tsx', "import { x } from '@/features/presence';\nexport default x;\n")).toEqual([
      expect.stringContaining('Features do not import each other'),
    ]);
    expect(await boundaryErrors('src/features/team/components/X.tsx', "import { x } from '../../presence/hooks/y';\nexport default x;\n")).toHaveLength(1);
    expect(await boundaryErrors('src/features/team/X.ts', "import { x } from '../presence';\nexport default x;\n")).toHaveLength(1);
  });

  it('allows a feature its own files and the shared layers; app/ may import features', async () => {
    const own = "import { a } from '../hooks/use-team';\nimport { b } from '@/features/team/hooks/use-team';\nimport { c } from '@/lib/format';\nexport default [a, b, c];\n";
    expect(await boundaryErrors('src/features/team/components/X.tsx', own)).toEqual([]);
    expect(await boundaryErrors('src/app/X.tsx', "import { a } from '@/features/team';\nexport default a;\n")).toEqual([]);
  });

  it('refuses shared code depending on a feature', async () => {
    expect(await boundaryErrors('src/lib/x.ts', "import { a } from '@/features/auth';\nexport default a;\n")).toEqual([
      expect.stringContaining('Shared code'),
    ]);
  });
});
