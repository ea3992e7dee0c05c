// Which Secret a ModelDeployment may take its Hugging Face token from: one in its own namespace
// whose owner marked it for Tailor with this label. Any other Secret is refused, unread.

export const TOKEN_SECRET_LABEL = 'tailor.dev/huggingface-token';

export type TokenSecretDecision =
  | { kind: 'Allowed' }
  | { kind: 'Missing'; message: string; hint: string }
  | { kind: 'NotAllowed'; message: string; hint: string };

/** From the Secret's metadata only (labels), or undefined when it does not exist. */
export function checkTokenSecret(
  namespace: string,
  name: string,
  labels: Readonly<Record<string, string>> | undefined | null,
): TokenSecretDecision {
  if (labels === null)
    return {
      kind: 'Missing',
      message: `Secret ${name} (model.huggingFace.tokenSecretRef) does not exist in namespace ${namespace}`,
      hint: `create it with the token and the label ${TOKEN_SECRET_LABEL}=true, or fix model.huggingFace.tokenSecretRef`,
    };
  if (labels?.[TOKEN_SECRET_LABEL] === 'true') return { kind: 'Allowed' };
  return {
    kind: 'NotAllowed',
    message: `Secret ${name} (model.huggingFace.tokenSecretRef) lacks the label ${TOKEN_SECRET_LABEL}=true that marks a Secret as a Hugging Face token Tailor may use`,
    hint: `label it: kubectl label secret ${name} -n ${namespace} ${TOKEN_SECRET_LABEL}=true`,
  };
}
