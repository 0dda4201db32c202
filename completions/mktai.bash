# bash completion for mktai                                  -*- shell-script -*-
# Generated from the mktai command tree by `make completions`
# (python -m mktai.cli.completions completions). Do not edit by hand.
# Install: `source completions/mktai.bash` in ~/.bashrc, or copy this file to
# ~/.local/share/bash-completion/completions/mktai (bash-completion loads it on demand).

_mktai_spec() {
    # $1: command path, $2: its first argument (train: the model kind) -> its
    # sub-commands, options, and options that take a value
    case "$1" in
        '')
            _mktai_subs='ingest train segment recommend forecast sentiment predict evaluate models serve demo'
            _mktai_opts='--store --quiet -q --json --version --help -h'
            _mktai_vopts='--store'
            ;;
        'ingest')
            _mktai_subs=''
            _mktai_opts='--output -o --kind --map --encoding --rejects --report --strict --keep-duplicates --engine --spark-master --partition-by --json --quiet -q --help -h'
            _mktai_vopts='--output -o --kind --map --encoding --rejects --report --engine --spark-master --partition-by'
            ;;
        'train')
            _mktai_subs=''
            _mktai_opts='--name -n --target --algorithm -a --cv --seed --map --if-changed --test-size --encoding --strict --keep-duplicates --store --engine --spark-master --json --quiet -q --help -h'
            _mktai_vopts='--name -n --target --algorithm -a --cv --seed --map --test-size --encoding --store --engine --spark-master'
            case "$2" in
                'propensity'|'demand')
                    _mktai_opts+=' --threshold-metric --class-weight --calibrate --positive --drop --leak-auc --learning-rate --max-iter --max-leaf-nodes --min-samples-leaf --l2-regularization --max-features --early-stopping --c --epochs --batch-size --patience'
                    _mktai_vopts+=' --threshold-metric --class-weight --calibrate --positive --drop --leak-auc --learning-rate --max-iter --max-leaf-nodes --min-samples-leaf --l2-regularization --max-features --early-stopping --c --epochs --batch-size --patience'
                    ;;
                'segments')
                    _mktai_opts+=' --k --k-max --clv --horizon --discount --as-of --monetary --segment-map'
                    _mktai_vopts+=' --k --k-max --clv --horizon --discount --as-of --monetary --segment-map'
                    ;;
                'sentiment')
                    _mktai_opts+=' --labels --C --min-df --nb-power --char-max --word-ngram --max-features --alpha --max-tokens --sequence-length --embedding-dim --hidden --epochs --batch-size --patience --validation-split --refit --learning-rate --mask-zero --holdout'
                    _mktai_vopts+=' --labels --C --min-df --nb-power --char-max --word-ngram --max-features --alpha --max-tokens --sequence-length --embedding-dim --hidden --epochs --batch-size --patience --validation-split --refit --learning-rate --mask-zero --holdout'
                    ;;
                'recommender')
                    _mktai_opts+=' --feedback --scale --n-factors --n-epochs --lr-all --reg-all --alpha --k --lambda --members --weighting --tune --split'
                    _mktai_vopts+=' --feedback --scale --n-factors --n-epochs --lr-all --reg-all --alpha --k --lambda --members --weighting --tune --split'
                    ;;
                'forecast')
                    _mktai_opts+=' --horizon --by --freq --agg --fill --wide --value --exog --future --level --origins --intervals'
                    _mktai_vopts+=' --horizon --by --freq --agg --fill --wide --value --exog --future --level --origins --intervals'
                    ;;
            esac
            ;;
        'segment')
            _mktai_subs=''
            _mktai_opts='--output -o --as-of --monetary --k --k-max --clv --horizon --discount --segment-map --customers --features --model --compare-to --report --seed --map --encoding --strict --keep-duplicates --store --engine --spark-master --json --quiet -q --help -h'
            _mktai_vopts='--output -o --as-of --monetary --k --k-max --horizon --discount --segment-map --customers --features --model --compare-to --report --seed --map --encoding --store --engine --spark-master'
            ;;
        'recommend')
            _mktai_subs=''
            _mktai_opts='--model -m --user -u --all-users --similar-to --top -n --include-seen --exclude-items --output -o --engine --spark-master --store --json --quiet -q --help -h'
            _mktai_vopts='--model -m --user -u --similar-to --top -n --exclude-items --output -o --engine --spark-master --store'
            ;;
        'forecast')
            _mktai_subs=''
            _mktai_opts='--horizon --by --freq --agg --fill --wide --value --model -m --algorithm -a --exog --future --level --intervals --backtest --detail --origins --plot --output -o --seed --map --encoding --store --json --quiet -q --help -h'
            _mktai_vopts='--horizon --by --freq --agg --fill --value --model -m --algorithm -a --exog --future --level --intervals --backtest --origins --plot --output -o --seed --map --encoding --store'
            ;;
        'sentiment')
            _mktai_subs=''
            _mktai_opts='--input -i --column -c --output -o --model -m --explain --lang --encoding --strict --store --json --quiet -q --help -h'
            _mktai_vopts='--input -i --column -c --output -o --model -m --lang --encoding --store'
            ;;
        'predict')
            _mktai_subs=''
            _mktai_opts='--model -m --output -o --map --encoding --store --json --quiet -q --help -h'
            _mktai_vopts='--model -m --output -o --map --encoding --store'
            ;;
        'evaluate')
            _mktai_subs=''
            _mktai_opts='--model -m --data -d --report --junit --fail-under --compare-to --max-drop --map --encoding --strict --store --json --quiet -q --help -h'
            _mktai_vopts='--model -m --data -d --report --junit --fail-under --compare-to --max-drop --map --encoding --store'
            ;;
        'models')
            _mktai_subs='list show tag untag rm prune verify sign export import'
            _mktai_opts='--help -h'
            _mktai_vopts=''
            ;;
        'models list')
            _mktai_subs=''
            _mktai_opts='--store --json --quiet -q --help -h'
            _mktai_vopts='--store'
            ;;
        'models show')
            _mktai_subs=''
            _mktai_opts='--store --json --quiet -q --help -h'
            _mktai_vopts='--store'
            ;;
        'models tag')
            _mktai_subs=''
            _mktai_opts='--store --json --quiet -q --help -h'
            _mktai_vopts='--store'
            ;;
        'models untag')
            _mktai_subs=''
            _mktai_opts='--store --json --quiet -q --help -h'
            _mktai_vopts='--store'
            ;;
        'models rm')
            _mktai_subs=''
            _mktai_opts='--all --force --store --json --quiet -q --help -h'
            _mktai_vopts='--store'
            ;;
        'models prune')
            _mktai_subs=''
            _mktai_opts='--keep --dry-run --store --json --quiet -q --help -h'
            _mktai_vopts='--keep --store'
            ;;
        'models verify')
            _mktai_subs=''
            _mktai_opts='--store --json --quiet -q --help -h'
            _mktai_vopts='--store'
            ;;
        'models sign')
            _mktai_subs=''
            _mktai_opts='--store --json --quiet -q --help -h'
            _mktai_vopts='--store'
            ;;
        'models export')
            _mktai_subs=''
            _mktai_opts='--output -o --store --json --quiet -q --help -h'
            _mktai_vopts='--output -o --store'
            ;;
        'models import')
            _mktai_subs=''
            _mktai_opts='--name --store --json --quiet -q --help -h'
            _mktai_vopts='--name --store'
            ;;
        'serve')
            _mktai_subs=''
            _mktai_opts='--host --port -p --workers -w --models --all --default-model --token-file --max-body --max-rows --timeout --store --help -h'
            _mktai_vopts='--host --port -p --workers -w --models --default-model --token-file --max-body --max-rows --timeout --store'
            ;;
        'demo')
            _mktai_subs=''
            _mktai_opts='--out --seed --help -h'
            _mktai_vopts='--out --seed'
            ;;
        *) _mktai_subs= _mktai_opts= _mktai_vopts= ;;
    esac
}

_mktai_value() {
    # $1: command path, $2: option, $3: the command's first argument -> complete the
    # option's value
    case "$1|$3|$2" in
        'train|propensity|--threshold-metric'|'train|demand|--threshold-metric') _mktai_complete words 'f1 youden'; return ;;
        'train|propensity|--class-weight'|'train|demand|--class-weight') _mktai_complete words 'balanced none'; return ;;
        'train|propensity|--calibrate'|'train|demand|--calibrate') _mktai_complete words 'none sigmoid isotonic'; return ;;
        'train|propensity|--early-stopping'|'train|demand|--early-stopping') _mktai_complete words 'true false'; return ;;
        'train|segments|--clv') _mktai_complete words 'true false'; return ;;
        'train|segments|--monetary') _mktai_complete words 'mean total'; return ;;
        'train|segments|--segment-map') _mktai_complete file; return ;;
        'train|recommender|--feedback') _mktai_complete words 'explicit implicit'; return ;;
        'train|recommender|--members') _mktai_complete words 'svd svdpp nmf knn-baseline baseline slope-one co-clustering'; return ;;
        'train|recommender|--weighting') _mktai_complete words 'binary count log'; return ;;
        'train|recommender|--tune') _mktai_complete words 'true false'; return ;;
        'train|recommender|--split') _mktai_complete words 'random time'; return ;;
        'train|forecast|--freq') _mktai_complete words 'd w m q'; return ;;
        'train|forecast|--agg') _mktai_complete words 'sum mean'; return ;;
        'train|forecast|--fill') _mktai_complete words 'zero interpolate'; return ;;
        'train|forecast|--wide') _mktai_complete words 'true false'; return ;;
        'train|forecast|--intervals') _mktai_complete words 'conformal model'; return ;;
    esac
    case "$1|$2" in
        '|--store') _mktai_complete dir ;;
        'ingest|--output'|'ingest|-o') _mktai_complete file ;;
        'ingest|--kind') _mktai_complete words 'customers labelled ratings reviews sales table transactions' ;;
        'ingest|--map') _mktai_complete none ;;
        'ingest|--encoding') _mktai_complete none ;;
        'ingest|--rejects') _mktai_complete file ;;
        'ingest|--report') _mktai_complete file ;;
        'ingest|--engine') _mktai_complete none ;;
        'ingest|--spark-master') _mktai_complete none ;;
        'ingest|--partition-by') _mktai_complete none ;;
        'train|--name'|'train|-n') _mktai_complete ref ;;
        'train|--target') _mktai_complete none ;;
        'train|--algorithm'|'train|-a') _mktai_complete none ;;
        'train|--cv') _mktai_complete none ;;
        'train|--seed') _mktai_complete none ;;
        'train|--map') _mktai_complete none ;;
        'train|--test-size') _mktai_complete none ;;
        'train|--encoding') _mktai_complete none ;;
        'train|--store') _mktai_complete dir ;;
        'train|--engine') _mktai_complete none ;;
        'train|--spark-master') _mktai_complete none ;;
        'segment|--output'|'segment|-o') _mktai_complete file ;;
        'segment|--as-of') _mktai_complete none ;;
        'segment|--monetary') _mktai_complete none ;;
        'segment|--k') _mktai_complete none ;;
        'segment|--k-max') _mktai_complete none ;;
        'segment|--horizon') _mktai_complete none ;;
        'segment|--discount') _mktai_complete none ;;
        'segment|--segment-map') _mktai_complete file ;;
        'segment|--customers') _mktai_complete file ;;
        'segment|--features') _mktai_complete none ;;
        'segment|--model') _mktai_complete ref ;;
        'segment|--compare-to') _mktai_complete file ;;
        'segment|--report') _mktai_complete file ;;
        'segment|--seed') _mktai_complete none ;;
        'segment|--map') _mktai_complete none ;;
        'segment|--encoding') _mktai_complete none ;;
        'segment|--store') _mktai_complete dir ;;
        'segment|--engine') _mktai_complete none ;;
        'segment|--spark-master') _mktai_complete none ;;
        'recommend|--model'|'recommend|-m') _mktai_complete ref ;;
        'recommend|--user'|'recommend|-u') _mktai_complete none ;;
        'recommend|--similar-to') _mktai_complete none ;;
        'recommend|--top'|'recommend|-n') _mktai_complete none ;;
        'recommend|--exclude-items') _mktai_complete file ;;
        'recommend|--output'|'recommend|-o') _mktai_complete file ;;
        'recommend|--engine') _mktai_complete none ;;
        'recommend|--spark-master') _mktai_complete none ;;
        'recommend|--store') _mktai_complete dir ;;
        'forecast|--horizon') _mktai_complete none ;;
        'forecast|--by') _mktai_complete none ;;
        'forecast|--freq') _mktai_complete none ;;
        'forecast|--agg') _mktai_complete none ;;
        'forecast|--fill') _mktai_complete none ;;
        'forecast|--value') _mktai_complete none ;;
        'forecast|--model'|'forecast|-m') _mktai_complete ref ;;
        'forecast|--algorithm'|'forecast|-a') _mktai_complete none ;;
        'forecast|--exog') _mktai_complete none ;;
        'forecast|--future') _mktai_complete file ;;
        'forecast|--level') _mktai_complete none ;;
        'forecast|--intervals') _mktai_complete none ;;
        'forecast|--backtest') _mktai_complete none ;;
        'forecast|--origins') _mktai_complete none ;;
        'forecast|--plot') _mktai_complete file ;;
        'forecast|--output'|'forecast|-o') _mktai_complete file ;;
        'forecast|--seed') _mktai_complete none ;;
        'forecast|--map') _mktai_complete none ;;
        'forecast|--encoding') _mktai_complete none ;;
        'forecast|--store') _mktai_complete dir ;;
        'sentiment|--input'|'sentiment|-i') _mktai_complete file ;;
        'sentiment|--column'|'sentiment|-c') _mktai_complete none ;;
        'sentiment|--output'|'sentiment|-o') _mktai_complete file ;;
        'sentiment|--model'|'sentiment|-m') _mktai_complete ref ;;
        'sentiment|--lang') _mktai_complete none ;;
        'sentiment|--encoding') _mktai_complete none ;;
        'sentiment|--store') _mktai_complete dir ;;
        'predict|--model'|'predict|-m') _mktai_complete ref ;;
        'predict|--output'|'predict|-o') _mktai_complete file ;;
        'predict|--map') _mktai_complete none ;;
        'predict|--encoding') _mktai_complete none ;;
        'predict|--store') _mktai_complete dir ;;
        'evaluate|--model'|'evaluate|-m') _mktai_complete ref ;;
        'evaluate|--data'|'evaluate|-d') _mktai_complete file ;;
        'evaluate|--report') _mktai_complete file ;;
        'evaluate|--junit') _mktai_complete file ;;
        'evaluate|--fail-under') _mktai_complete none ;;
        'evaluate|--compare-to') _mktai_complete none ;;
        'evaluate|--max-drop') _mktai_complete none ;;
        'evaluate|--map') _mktai_complete none ;;
        'evaluate|--encoding') _mktai_complete none ;;
        'evaluate|--store') _mktai_complete dir ;;
        'models list|--store') _mktai_complete dir ;;
        'models show|--store') _mktai_complete dir ;;
        'models tag|--store') _mktai_complete dir ;;
        'models untag|--store') _mktai_complete dir ;;
        'models rm|--store') _mktai_complete dir ;;
        'models prune|--keep') _mktai_complete none ;;
        'models prune|--store') _mktai_complete dir ;;
        'models verify|--store') _mktai_complete dir ;;
        'models sign|--store') _mktai_complete dir ;;
        'models export|--output'|'models export|-o') _mktai_complete file ;;
        'models export|--store') _mktai_complete dir ;;
        'models import|--name') _mktai_complete ref ;;
        'models import|--store') _mktai_complete dir ;;
        'serve|--host') _mktai_complete none ;;
        'serve|--port'|'serve|-p') _mktai_complete none ;;
        'serve|--workers'|'serve|-w') _mktai_complete none ;;
        'serve|--models') _mktai_complete ref ;;
        'serve|--default-model') _mktai_complete none ;;
        'serve|--token-file') _mktai_complete file ;;
        'serve|--max-body') _mktai_complete none ;;
        'serve|--max-rows') _mktai_complete none ;;
        'serve|--timeout') _mktai_complete none ;;
        'serve|--store') _mktai_complete dir ;;
        'demo|--out') _mktai_complete dir ;;
        'demo|--seed') _mktai_complete none ;;
        *) COMPREPLY=() ;;
    esac
}

_mktai_arg() {
    # $1: command path, $2: index of the positional argument being completed
    case "$1|$2" in
        'ingest|'*) _mktai_complete file ;;
        'train|0') _mktai_complete words 'demand forecast propensity recommender segments sentiment' ;;
        'train|1') _mktai_complete file ;;
        'segment|'*) _mktai_complete file ;;
        'forecast|0') _mktai_complete file ;;
        'sentiment|'*) _mktai_complete file ;;
        'predict|0') _mktai_complete file ;;
        'models list|0') _mktai_complete ref ;;
        'models show|0') _mktai_complete ref ;;
        'models tag|0') _mktai_complete ref ;;
        'models tag|1') _mktai_complete none ;;
        'models untag|0') _mktai_complete ref ;;
        'models untag|1') _mktai_complete none ;;
        'models rm|0') _mktai_complete ref ;;
        'models prune|0') _mktai_complete ref ;;
        'models verify|0') _mktai_complete ref ;;
        'models sign|0') _mktai_complete ref ;;
        'models export|0') _mktai_complete ref ;;
        'models import|0') _mktai_complete file ;;
        *) COMPREPLY=() ;;
    esac
}

_mktai_store() {
    # The store a model reference is looked up in: --store on the line, $MKTAI_STORE, ./mktai-store
    local i store=
    for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
        if [[ ${COMP_WORDS[i]} == --store ]]; then
            if [[ ${COMP_WORDS[i+1]} == = ]]; then store=${COMP_WORDS[i+2]}; else store=${COMP_WORDS[i+1]}; fi
        fi
    done
    [[ -n $store ]] || store=${MKTAI_STORE:-mktai-store}
    [[ $store == "~/"* ]] && store=$HOME/${store#"~/"}
    printf '%s\n' "$store"
}

_mktai_refs() {
    # Model names (directories of the store); name@vN and name@alias once "@" is typed.
    local store d name json
    store=$(_mktai_store)
    if [[ $1 == *@* ]]; then
        name=${1%%@*}
        for d in "$store/$name"/v*/; do
            [[ -d $d ]] || continue
            d=${d%/}
            printf '%s@%s\n' "$name" "${d##*/}"
        done
        if [[ -r $store/$name/aliases.json ]]; then
            json=$(<"$store/$name/aliases.json")
            while [[ $json =~ \"([^\"]+)\"[[:space:]]*: ]]; do
                printf '%s@%s\n' "$name" "${BASH_REMATCH[1]}"
                json=${json#*"${BASH_REMATCH[0]}"}
            done
        fi
    else
        for d in "$store"/*/; do
            [[ -d $d ]] || continue
            d=${d%/}
            d=${d##*/}
            [[ $d == .* ]] || printf '%s\n' "$d"
        done
    fi
}

_mktai_complete() {
    # $1: what to complete ("file", "dir", "ref", "words", "none"); $2: the words
    local IFS=$' \t\n'
    case $1 in
        file)
            compopt -o filenames 2>/dev/null
            IFS=$'\n' COMPREPLY=($(compgen -f -- "$cur"))
            ;;
        dir)
            compopt -o filenames 2>/dev/null
            IFS=$'\n' COMPREPLY=($(compgen -d -- "$cur"))
            ;;
        ref) COMPREPLY=($(compgen -W "$(_mktai_refs "$cur")" -- "$cur")) ;;
        words) COMPREPLY=($(compgen -W "$2" -- "$cur")) ;;
        *) COMPREPLY=() ;;
    esac
}

_mktai() {
    local cur=${COMP_WORDS[COMP_CWORD]} key= opt= w i n=0 skip=0 first=
    local _mktai_subs _mktai_opts _mktai_vopts
    COMPREPLY=()
    # Walk the words before the cursor: sub-commands extend the command path, options that take
    # a value skip it (also as --opt=value, which bash splits into three words), the rest are
    # positional arguments (the first one, e.g. train's KIND, can bring options of its own).
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ $w == = ]]; then skip=1; continue; fi
        if ((skip)); then skip=0; continue; fi
        _mktai_spec "$key" "$first"
        case $w in
            -*) [[ " $_mktai_vopts " == *" $w "* ]] && skip=1 ;;
            *)
                if [[ " $_mktai_subs " == *" $w "* ]]; then
                    key=${key:+$key }$w
                    n=0
                    first=
                else
                    n=$((n + 1))
                    ((n == 1)) && first=$w
                fi
                ;;
        esac
    done
    _mktai_spec "$key" "$first"
    if ((skip)); then
        opt=${COMP_WORDS[COMP_CWORD-1]}
        [[ $opt == = ]] && opt=${COMP_WORDS[COMP_CWORD-2]}
        [[ $cur == = ]] && cur=
        _mktai_value "$key" "$opt" "$first"
        return 0
    fi
    if [[ $cur == -* ]]; then
        _mktai_complete words "$_mktai_opts"
    elif [[ -n $_mktai_subs ]]; then
        _mktai_complete words "$_mktai_subs"
    else
        _mktai_arg "$key" "$n"
    fi
    return 0
}

complete -F _mktai mktai
