// SPDX-License-Identifier: MIT
/*
 * The credential formats keys.c looks for: POSIX extended regular
 * expressions of each shape, most specific first (one text position is
 * claimed by the first shape that matches there), and the variable names
 * that hold a credential whatever its shape. Each with its public source;
 * the shapes are those secret scanners use (gitleaks, trufflehog) and
 * relay software writes (one-api, claude-relay-service).
 */
#include "keys_impl.h"

#define GITLEAKS "https://github.com/gitleaks/gitleaks/tree/master/cmd/generate/config/rules"
#define TRUFFLEHOG "https://github.com/trufflesecurity/trufflehog/tree/main/pkg/detectors"

const struct key_format key_formats[] = {
	{ "OpenAI", "project/service/admin API key",
	  "sk-(proj|svcacct|admin)-[A-Za-z0-9_-]{58,74}T3BlbkFJ[A-Za-z0-9_-]{58,74}",
	  0, GITLEAKS "/openai.go" },
	{ "OpenAI", "API key (legacy user key)",
	  "sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}", 3,
	  GITLEAKS "/openai.go" },
	{ "Anthropic", "API key", "sk-ant-api03-[A-Za-z0-9_-]{93}AA", 13,
	  GITLEAKS "/anthropic.go" },
	{ "Anthropic", "admin API key", "sk-ant-admin01-[A-Za-z0-9_-]{93}AA",
	  15, GITLEAKS "/anthropic.go" },
	{ "Anthropic", "Claude Code OAuth token",
	  "sk-ant-oat01-[A-Za-z0-9_-]{95}", 13,
	  "https://github.com/gitleaks/gitleaks/blob/12e87347/cmd/generate/config/rules/claude_code.go" },
	{ "OpenRouter", "API key", "sk-or-v1-[0-9a-f]{64}", 9,
	  TRUFFLEHOG "/openrouter" },
	{ "Google", "API key (Gemini)", "AIza[A-Za-z0-9_-]{35}", 4,
	  GITLEAKS "/gcp.go" },
	{ "xAI", "API key", "xai-[0-9A-Za-z_]{80}", 4, TRUFFLEHOG "/xai" },
	{ "Groq", "API key", "gsk_[A-Za-z0-9]{48,52}", 4, TRUFFLEHOG "/groq" },
	{ "Perplexity", "API key", "pplx-[A-Za-z0-9]{48}", 5,
	  GITLEAKS "/perplexity.go" },
	{ "Hugging Face", "access token", "hf_[A-Za-z]{34}", 3,
	  GITLEAKS "/huggingface.go" },
	{ "AWS", "Bedrock API key", "ABSK[A-Za-z0-9+/]{109,269}={0,2}", 4,
	  GITLEAKS "/aws.go" },
	{ "AWS", "access key id", "(A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}",
	  4, GITLEAKS "/aws.go" },
	{ "Alibaba Cloud", "AccessKey ID", "LTAI[A-Za-z0-9]{20}", 4,
	  GITLEAKS "/alibaba.go" },
	{ "GitHub", "token", "gh[pousr]_[0-9A-Za-z]{36}", 4,
	  GITLEAKS "/github.go" },
	{ "GitHub", "fine-grained token", "github_pat_[A-Za-z0-9_]{82}", 11,
	  GITLEAKS "/github.go" },
	{ "claude-relay-service", "relay API key", "cr_[0-9a-f]{64}", 3,
	  "https://github.com/Wei-Shaw/claude-relay-service" },
	{ "one-api relay", "relay API key",
	  "sk-[A-Za-z0-9]{16}([0-9A-F][0-9a-f]){16}", 3,
	  "https://github.com/songquanpeng/one-api/blob/main/common/random/main.go" },
	{ "DeepSeek or DashScope", "API key", "sk-[a-f0-9]{32}", 3,
	  TRUFFLEHOG "/deepseek" },
	{ "unknown (OpenAI-compatible)", "sk- API key",
	  "sk-[A-Za-z0-9]{48}", 3, TRUFFLEHOG "/openai" },
	{ NULL },
};

/* names that hold a credential whatever the value looks like (the
 * providers' SDK and CLI documentation), matched without case */
const struct key_name key_names[] = {
	{ "OPENAI_API_KEY", "OpenAI", "API key" },
	{ "AZURE_OPENAI_API_KEY", "Azure OpenAI", "API key" },
	{ "ANTHROPIC_API_KEY", "Anthropic", "API key" },
	{ "ANTHROPIC_AUTH_TOKEN", "Anthropic", "auth token" },
	{ "CLAUDE_CODE_OAUTH_TOKEN", "Anthropic", "Claude Code OAuth token" },
	{ "GEMINI_API_KEY", "Google", "API key (Gemini)" },
	{ "GOOGLE_API_KEY", "Google", "API key" },
	{ "AWS_ACCESS_KEY_ID", "AWS", "access key id" },
	{ "AWS_SECRET_ACCESS_KEY", "AWS", "secret access key" },
	{ "AWS_SESSION_TOKEN", "AWS", "session token" },
	{ "AWS_BEARER_TOKEN_BEDROCK", "AWS", "Bedrock API key" },
	{ "DEEPSEEK_API_KEY", "DeepSeek", "API key" },
	{ "DASHSCOPE_API_KEY", "Alibaba DashScope", "API key" },
	{ "MOONSHOT_API_KEY", "Moonshot", "API key" },
	{ "ZHIPUAI_API_KEY", "Zhipu", "API key" },
	{ "OPENROUTER_API_KEY", "OpenRouter", "API key" },
	{ "XAI_API_KEY", "xAI", "API key" },
	{ "GROQ_API_KEY", "Groq", "API key" },
	{ "MISTRAL_API_KEY", "Mistral", "API key" },
	{ "COHERE_API_KEY", "Cohere", "API key" },
	{ "CO_API_KEY", "Cohere", "API key" },
	{ "HF_TOKEN", "Hugging Face", "access token" },
	{ "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "Alibaba Cloud", "AccessKey secret" },
	{ NULL },
};
