/**
 * `hydra-chat completion bash|zsh|fish`: the scripts, generated from the completion spec. Device names
 * come from `hydra-chat __complete devices in|out` at completion time (it lists, never opens a stream).
 */
import { allVoices, type CompletionSpec } from './spec.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** A single-quoted shell word (bash, zsh and fish all read '…' with '\'' the same way for our text). */
function q(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
/** fish: inside '…' only \\ and \' are special. */
function fq(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const words = (list: readonly string[]): string => list.join(' ');

function valueFlags(spec: CompletionSpec): string[] {
  return [...new Set([...spec.flags, ...spec.commands.flatMap((c) => c.flags)].filter((f) => f.takesValue).map((f) => f.flag))];
}

export function bashScript(spec: CompletionSpec): string {
  const voiceCases = Object.entries(spec.voices).map(([tag, voices]) => `    ${tag}) echo ${q(words(voices))} ;;`);
  const commandCases = spec.commands.map((c) => `    ${c.name}) echo ${q(words([...c.subcommands, ...c.flags.map((f) => f.flag)]))} ;;`);
  return `# hydra-chat completion for bash. Load it with:  eval "$(hydra-chat completion bash)"
_hydra_chat_voices() {
  case "$1" in
${voiceCases.join('\n')}
    *) echo ${q(words(allVoices(spec)))} ;;
  esac
}
_hydra_chat_words() {
  case "$1" in
${commandCases.join('\n')}
    *) echo ${q(words([...spec.commands.map((c) => c.name), ...spec.flags.map((f) => f.flag)]))} ;;
  esac
}
_hydra_chat() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local sub="" model="" i word
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$word" in
      --model) model="\${COMP_WORDS[i+1]}" ;;
      --model=*) model="\${word#--model=}" ;;
      ${valueFlags(spec).join('|')}) ((i++)) ;;
      -*) ;;
      *) [[ -z "$sub" ]] && sub="$word" ;;
    esac
  done
  COMPREPLY=()
  case "$prev" in
    --voice) COMPREPLY=($(compgen -W "$(_hydra_chat_voices "$model")" -- "$cur")); return ;;
    --model) COMPREPLY=($(compgen -W ${q(words(Object.keys(spec.voices)))} -- "$cur")); return ;;
${spec.deviceFlags
  .map(
    (d) =>
      `    ${d.flag}) local IFS=$'\\n'; COMPREPLY=($(compgen -W "$(\${COMP_WORDS[0]} __complete devices ${d.direction} 2>/dev/null)" -- "$cur")); COMPREPLY=("\${COMPREPLY[@]// /\\\\ }"); return ;;`,
  )
  .join('\n')}
    ${spec.fileFlags.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  if [[ "$sub" == completion ]]; then COMPREPLY=($(compgen -W 'bash zsh fish' -- "$cur")); return; fi
  COMPREPLY=($(compgen -W "$(_hydra_chat_words "$sub")" -- "$cur"))
}
complete -o default -F _hydra_chat hydra-chat
`;
}

export function zshScript(spec: CompletionSpec): string {
  const voiceCases = Object.entries(spec.voices).map(([tag, voices]) => `    ${tag}) voices=(${words(voices)}) ;;`);
  const commandCases = spec.commands.map((c) => `    ${c.name}) candidates=(${words([...c.subcommands, ...c.flags.map((f) => f.flag)])}) ;;`);
  const commandDescriptions = spec.commands.map((c) => q(`${c.name}:${c.description.replace(/:/g, '\\:')}`));
  return `#compdef hydra-chat
# hydra-chat completion for zsh. Load it with:  source <(hydra-chat completion zsh)
# (after compinit), or save it as _hydra-chat in a directory of your $fpath.
_hydra_chat() {
  local model="" sub="" i word
  local -a voices candidates devices commands
  for (( i = 2; i < CURRENT; i++ )); do
    word=\${words[i]}
    case $word in
      --model) model=\${words[i+1]} ;;
      --model=*) model=\${word#--model=} ;;
      ${valueFlags(spec).join('|')}) (( i++ )) ;;
      -*) ;;
      *) [[ -z $sub ]] && sub=$word ;;
    esac
  done
  case \${words[CURRENT-1]} in
    --voice)
      case $model in
${voiceCases.map((line) => `  ${line}`).join('\n')}
        *) voices=(${words(allVoices(spec))}) ;;
      esac
      compadd -a voices; return ;;
    --model) compadd ${words(Object.keys(spec.voices))}; return ;;
${spec.deviceFlags
  .map((d) => `    ${d.flag}) devices=("\${(@f)$(\${words[1]} __complete devices ${d.direction} 2>/dev/null)}"); compadd -a devices; return ;;`)
  .join('\n')}
    ${spec.fileFlags.join('|')}) _files; return ;;
  esac
  if [[ $sub == completion ]]; then compadd bash zsh fish; return; fi
  if [[ -z $sub ]]; then
    commands=(${commandDescriptions.join(' ')})
    _describe -t commands 'hydra-chat command' commands
    compadd -- ${words(spec.flags.map((f) => f.flag))}
    return
  fi
  case $sub in
${commandCases.join('\n')}
  esac
  compadd -a candidates
}
if (( $+functions[compdef] )); then compdef _hydra_chat hydra-chat; fi
`;
}

export function fishScript(spec: CompletionSpec): string {
  const lines = [
    '# hydra-chat completion for fish. Load it with:  hydra-chat completion fish | source',
    '# (or save it as ~/.config/fish/completions/hydra-chat.fish)',
    'function __hydra_chat_model',
    '    set -l args (commandline -opc)',
    '    for i in (seq (count $args))',
    '        if test "$args[$i]" = --model; and test $i -lt (count $args)',
    '            echo $args[(math $i + 1)]',
    '            return',
    '        end',
    "        string replace -r -- '^--model=' '' $args[$i] | string match -v -- $args[$i]",
    '    end',
    'end',
    'function __hydra_chat_voices',
    '    switch (__hydra_chat_model)',
    ...Object.entries(spec.voices).flatMap(([tag, voices]) => [`        case ${tag}`, `            printf '%s\\n' ${words(voices)}`]),
    '        case "*"',
    `            printf '%s\\n' ${words(allVoices(spec))}`,
    '    end',
    'end',
    'complete -c hydra-chat -f',
    `set -l __hydra_chat_commands ${words(spec.commands.map((c) => c.name))}`,
  ];
  for (const command of spec.commands) {
    lines.push(`complete -c hydra-chat -n "not __fish_seen_subcommand_from $__hydra_chat_commands" -a ${command.name} -d ${fq(command.description)}`);
  }
  const flagLine = (condition: string, flag: { flag: string; takesValue: boolean; description: string }): string => {
    const name = flag.flag.replace(/^--/, '');
    let values = '';
    if (flag.flag === '--voice') values = " -x -a '(__hydra_chat_voices)'";
    else if (flag.flag === '--model') values = ` -x -a ${fq(words(Object.keys(spec.voices)))}`;
    else if (spec.deviceFlags.some((d) => d.flag === flag.flag)) {
      const direction = spec.deviceFlags.find((d) => d.flag === flag.flag)!.direction;
      values = ` -x -a '(hydra-chat __complete devices ${direction} 2>/dev/null)'`;
    } else if (spec.fileFlags.includes(flag.flag)) values = ' -r -F';
    else if (flag.takesValue) values = ' -x';
    return `complete -c hydra-chat ${condition} -l ${name}${values} -d ${fq(flag.description)}`;
  };
  for (const flag of spec.flags) lines.push(flagLine(`-n "not __fish_seen_subcommand_from $__hydra_chat_commands"`, flag));
  for (const command of spec.commands) {
    for (const sub of command.subcommands) lines.push(`complete -c hydra-chat -n "__fish_seen_subcommand_from ${command.name}" -a ${sub}`);
    for (const flag of command.flags) lines.push(flagLine(`-n "__fish_seen_subcommand_from ${command.name}"`, flag));
  }
  lines.push(`complete -c hydra-chat -n "__fish_seen_subcommand_from completion" -a 'bash zsh fish'`);
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: Shell, spec: CompletionSpec): string {
  return shell === 'bash' ? bashScript(spec) : shell === 'zsh' ? zshScript(spec) : fishScript(spec);
}
