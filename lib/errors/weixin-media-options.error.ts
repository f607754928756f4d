/** The module's options are missing or malformed; thrown at bootstrap with every problem listed. */
export class WeixinMediaOptionsError extends Error {
  override readonly name = 'WeixinMediaOptionsError';

  constructor(readonly problems: readonly string[]) {
    super(`WeixinMediaModule cannot start:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}
