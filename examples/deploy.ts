/**
 * Permissions: each step sees only the environment variables it declares, and
 * a secret's value shows as *** in everything weft prints or writes.
 *
 *   DEPLOY_TARGET=production DEPLOY_TOKEN=tok-123456 npx weft run examples/deploy.ts
 */
import { secret, sh, workflow } from "weft"

export default workflow("deploy", { permissions: { env: ["DEPLOY_TARGET"] } })
  // The workflow's permissions: DEPLOY_TARGET, and the base (PATH, HOME, ...).
  .step("target", (_, ctx) => ctx.env.DEPLOY_TARGET ?? "staging")
  // Its own permissions replace the workflow's: the token, and not DEPLOY_TARGET.
  .step("upload", { needs: ["target"], permissions: { env: [secret("DEPLOY_TOKEN")] } },
    ({ target }) => sh`echo "uploading to ${target} with token $DEPLOY_TOKEN [$DEPLOY_TARGET]"`)
