# fish completion for mktai
# Generated from the mktai command tree by `make completions`
# (python -m mktai.cli.completions completions). Do not edit by hand.
# Install: copy this file to ~/.config/fish/completions/mktai.fish

function __mktai_subs --description 'mktai: sub-commands of the command path $argv[1]'
    switch "$argv[1]"
        case ''
            printf '%s\n' 'ingest' 'train' 'segment' 'recommend' 'forecast' 'sentiment' 'predict' 'evaluate' 'models' 'serve' 'demo'
        case 'models'
            printf '%s\n' 'list' 'show' 'tag' 'untag' 'rm' 'prune' 'verify' 'sign' 'export' 'import'
    end
end

function __mktai_vopts --description 'mktai: options of $argv[1] (first argument $argv[2]) that take a value'
    switch "$argv[1]"
        case ''
            printf '%s\n' '--store'
        case 'ingest'
            printf '%s\n' '--output' '-o' '--kind' '--map' '--encoding' '--rejects' '--report' '--engine' '--spark-master' '--partition-by'
        case 'train'
            printf '%s\n' '--name' '-n' '--target' '--algorithm' '-a' '--cv' '--seed' '--map' '--test-size' '--encoding' '--store' '--engine' '--spark-master'
            switch "$argv[2]"
                case 'propensity' 'demand'
                    printf '%s\n' '--threshold-metric' '--class-weight' '--calibrate' '--positive' '--drop' '--leak-auc' '--learning-rate' '--max-iter' '--max-leaf-nodes' '--min-samples-leaf' '--l2-regularization' '--max-features' '--early-stopping' '--c' '--epochs' '--batch-size' '--patience'
                case 'segments'
                    printf '%s\n' '--k' '--k-max' '--clv' '--horizon' '--discount' '--as-of' '--monetary' '--segment-map'
                case 'sentiment'
                    printf '%s\n' '--labels' '--C' '--min-df' '--nb-power' '--char-max' '--word-ngram' '--max-features' '--alpha' '--max-tokens' '--sequence-length' '--embedding-dim' '--hidden' '--epochs' '--batch-size' '--patience' '--validation-split' '--refit' '--learning-rate' '--mask-zero' '--holdout'
                case 'recommender'
                    printf '%s\n' '--feedback' '--scale' '--n-factors' '--n-epochs' '--lr-all' '--reg-all' '--alpha' '--k' '--lambda' '--members' '--weighting' '--tune' '--split'
                case 'forecast'
                    printf '%s\n' '--horizon' '--by' '--freq' '--agg' '--fill' '--wide' '--value' '--exog' '--future' '--level' '--origins' '--intervals'
            end
        case 'segment'
            printf '%s\n' '--output' '-o' '--as-of' '--monetary' '--k' '--k-max' '--horizon' '--discount' '--segment-map' '--customers' '--features' '--model' '--compare-to' '--report' '--seed' '--map' '--encoding' '--store' '--engine' '--spark-master'
        case 'recommend'
            printf '%s\n' '--model' '-m' '--user' '-u' '--similar-to' '--top' '-n' '--exclude-items' '--output' '-o' '--engine' '--spark-master' '--store'
        case 'forecast'
            printf '%s\n' '--horizon' '--by' '--freq' '--agg' '--fill' '--value' '--model' '-m' '--algorithm' '-a' '--exog' '--future' '--level' '--intervals' '--backtest' '--origins' '--plot' '--output' '-o' '--seed' '--map' '--encoding' '--store'
        case 'sentiment'
            printf '%s\n' '--input' '-i' '--column' '-c' '--output' '-o' '--model' '-m' '--lang' '--encoding' '--store'
        case 'predict'
            printf '%s\n' '--model' '-m' '--output' '-o' '--map' '--encoding' '--store'
        case 'evaluate'
            printf '%s\n' '--model' '-m' '--data' '-d' '--report' '--junit' '--fail-under' '--compare-to' '--max-drop' '--map' '--encoding' '--store'
        case 'models list'
            printf '%s\n' '--store'
        case 'models show'
            printf '%s\n' '--store'
        case 'models tag'
            printf '%s\n' '--store'
        case 'models untag'
            printf '%s\n' '--store'
        case 'models rm'
            printf '%s\n' '--store'
        case 'models prune'
            printf '%s\n' '--keep' '--store'
        case 'models verify'
            printf '%s\n' '--store'
        case 'models sign'
            printf '%s\n' '--store'
        case 'models export'
            printf '%s\n' '--output' '-o' '--store'
        case 'models import'
            printf '%s\n' '--name' '--store'
        case 'serve'
            printf '%s\n' '--host' '--port' '-p' '--workers' '-w' '--models' '--default-model' '--token-file' '--max-body' '--max-rows' '--timeout' '--store'
        case 'demo'
            printf '%s\n' '--out' '--seed'
    end
end

function __mktai_state --description 'mktai: command path and positional index at the cursor'
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l key
    set -l n 0
    set -l skip 0
    set -l first
    for w in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case '--*=*'
            case '-*'
                if contains -- $w (__mktai_vopts "$key" "$first")
                    set skip 1
                end
            case '*'
                if contains -- $w (__mktai_subs "$key")
                    set -a key $w
                    set n 0
                    set first
                else
                    set n (math $n + 1)
                    test $n = 1; and set first $w
                end
        end
    end
    echo "$key|$n|$first"
end

function __mktai_first --description 'mktai: at command $argv[1] with its first argument one of $argv[2..]?'
    set -l state (string split '|' -- (__mktai_state))
    test "$state[1]" = "$argv[1]"; and contains -- "$state[3]" $argv[2..-1]
end

function __mktai_at --description 'mktai: is the command path at the cursor $argv[1]?'
    set -l state (string split '|' -- (__mktai_state))
    test "$state[1]" = "$argv[1]"
end

function __mktai_arg --description 'mktai: at command $argv[1], positional argument $argv[2] (N+: N or later)?'
    set -l state (string split '|' -- (__mktai_state))
    test "$state[1]" = "$argv[1]"; or return 1
    set -l index (string replace '+' '' -- $argv[2])
    if string match -q -- '*+' $argv[2]
        test $state[2] -ge $index
    else
        test $state[2] -eq $index
    end
end

function __mktai_refs --description 'mktai: stored model names, name@vN and name@alias'
    set -l tokens (commandline -opc)
    set -l store
    for i in (seq (count $tokens))
        if test "$tokens[$i]" = --store; and test $i -lt (count $tokens)
            set store $tokens[(math $i + 1)]
        else if string match -q -- '--store=*' $tokens[$i]
            set store (string replace -- '--store=' '' $tokens[$i])
        end
    end
    test -n "$store"; or set store $MKTAI_STORE
    test -n "$store"; or set store mktai-store
    set store (string replace -r '^~/' "$HOME/" -- $store)
    set -l cur (commandline -ct)
    if string match -q -- '*@*' $cur
        set -l name (string split -m1 @ -- $cur)[1]
        for d in $store/$name/v*/
            printf '%s@%s\n' $name (basename $d)
        end
        if test -r $store/$name/aliases.json
            for alias in (string match -arg '"([^"]+)"\s*:' < $store/$name/aliases.json)
                printf '%s@%s\n' $name $alias
            end
        end
    else
        for d in $store/*/
            basename $d
        end
    end
end

complete -c mktai -e
complete -c mktai -f

# mktai
complete -c mktai -n '__mktai_at \'\'' -a 'ingest' -d 'Clean raw exports: detect encoding, delimiter, column roles and...'
complete -c mktai -n '__mktai_at \'\'' -a 'train' -d 'Train a model on DATA and store it as a new version NAME@vN.'
complete -c mktai -n '__mktai_at \'\'' -a 'segment' -d 'RFM scores, named segments, k-means clusters and CLV per customer.'
complete -c mktai -n '__mktai_at \'\'' -a 'recommend' -d 'Recommend items: columns user, rank, item, score, source...'
complete -c mktai -n '__mktai_at \'\'' -a 'forecast' -d 'Forecast every series of DATA with prediction intervals; choose...'
complete -c mktai -n '__mktai_at \'\'' -a 'sentiment' -d 'Score review texts: label and probability of that label, per text.'
complete -c mktai -n '__mktai_at \'\'' -a 'predict' -d 'Score DATA with a stored model: input columns + score + prediction...'
complete -c mktai -n '__mktai_at \'\'' -a 'evaluate' -d 'Evaluate a stored model on labelled data; reports for CI and gates...'
complete -c mktai -n '__mktai_at \'\'' -a 'models' -d 'Manage stored model versions: list, show, tag, rm, prune, verify,...'
complete -c mktai -n '__mktai_at \'\'' -a 'serve' -d 'Serve the stored models over HTTP: predict, sentiment, segment,...'
complete -c mktai -n '__mktai_at \'\'' -a 'demo' -d 'Run the whole tour on sample_data/ into a throw-away store and list...'
complete -c mktai -n '__mktai_at \'\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'\'' -l 'json' -d 'Machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'\'' -l 'version' -d 'Show the version.'
complete -c mktai -n '__mktai_at \'\'' -l 'help' -s 'h' -d 'Show this message and exit.'

# mktai ingest
complete -c mktai -n '__mktai_at \'ingest\'' -l 'output' -s 'o' -r -F -d 'Write results here; format from the extension (.csv, .parquet, .json, .jsonl).'
complete -c mktai -n '__mktai_at \'ingest\'' -l 'kind' -r -f -a 'customers labelled ratings reviews sales table transactions' -d 'Dataset kind: transactions, customers, ratings, reviews, sales, labelled.'
complete -c mktai -n '__mktai_at \'ingest\'' -l 'map' -r -f -d 'Set a column role explicitly, e.g. --map amount=Total --map date=OrderDate.'
complete -c mktai -n '__mktai_at \'ingest\'' -l 'encoding' -r -f -d 'Input encoding (default: detected; e.g. utf-8, gb18030).'
complete -c mktai -n '__mktai_at \'ingest\'' -l 'rejects' -r -F -d 'Rejects CSV (default: beside the output, NAME.rejects.csv).'
complete -c mktai -n '__mktai_at \'ingest\'' -l 'report' -r -F -d 'Write the cleaning report as JSON.'
complete -c mktai -n '__mktai_at \'ingest\'' -l 'strict' -d 'Exit 2 when any row is rejected.'
complete -c mktai -n '__mktai_at \'ingest\'' -l 'keep-duplicates' -d 'Keep exact duplicate rows (default: drop them; remembering rows costs 16 B each).'
complete -c mktai -n '__mktai_at \'ingest\'' -l 'engine' -r -f -d 'Where the data work runs: local (default) or spark; default $MKTAI_ENGINE.'
complete -c mktai -n '__mktai_at \'ingest\'' -l 'spark-master' -r -f -d 'Spark master URL, e.g. spark://host:7077, yarn, local[4] (default: $MKTAI_SPARK_MASTER, else $SPARK_REMOTE, spark-defaults.conf, local[*]).'
complete -c mktai -n '__mktai_at \'ingest\'' -l 'partition-by' -r -f -d 'With --engine spark: partition the output directory by COLUMN.'
complete -c mktai -n '__mktai_at \'ingest\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'ingest\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'ingest\'' -l 'help' -s 'h' -d 'Show this message and exit.'
complete -c mktai -n '__mktai_arg \'ingest\' 0+' -F -d 'files'

# mktai train
complete -c mktai -n '__mktai_at \'train\'' -l 'name' -s 'n' -r -f -a '(__mktai_refs)' -d 'Model name in the store.'
complete -c mktai -n '__mktai_at \'train\'' -l 'target' -r -f -d 'Target column (propensity / demand).'
complete -c mktai -n '__mktai_at \'train\'' -l 'algorithm' -s 'a' -r -f -d 'Algorithm, e.g. gbm (default), linear, mlp.'
complete -c mktai -n '__mktai_at \'train\'' -l 'cv' -r -f -d 'Cross-validation folds (0 = none; default 5, 3 from 20,000 rows).'
complete -c mktai -n '__mktai_at \'train\'' -l 'seed' -r -f -d 'Random seed: same data + seed = same result.'
complete -c mktai -n '__mktai_at \'train\'' -l 'map' -r -f -d 'Set a column role explicitly, e.g. --map amount=Total --map date=OrderDate.'
complete -c mktai -n '__mktai_at \'train\'' -l 'if-changed' -d 'Skip training when a version of NAME was trained on identical data (cron).'
complete -c mktai -n '__mktai_at \'train\'' -l 'test-size' -r -f -d 'Share of rows held out for holdout metrics (0.2).'
complete -c mktai -n '__mktai_at \'train\'' -l 'encoding' -r -f -d 'Input encoding (default: detected; e.g. utf-8, gb18030).'
complete -c mktai -n '__mktai_at \'train\'' -l 'strict' -d 'Exit 2 when any row is rejected.'
complete -c mktai -n '__mktai_at \'train\'' -l 'keep-duplicates' -d 'Keep identical lines of a transactions file (default: drop them).'
complete -c mktai -n '__mktai_at \'train\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'train\'' -l 'engine' -r -f -d 'Where the data work runs: local (default) or spark; default $MKTAI_ENGINE.'
complete -c mktai -n '__mktai_at \'train\'' -l 'spark-master' -r -f -d 'Spark master URL, e.g. spark://host:7077, yarn, local[4] (default: $MKTAI_SPARK_MASTER, else $SPARK_REMOTE, spark-defaults.conf, local[*]).'
complete -c mktai -n '__mktai_at \'train\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'train\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'train\'' -l 'help' -s 'h' -d 'Show this message and exit.'
# mktai train propensity|demand
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'threshold-metric' -r -f -a 'f1 youden' -d 'how the decision threshold is chosen on out-of-fold scores'
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'class-weight' -r -f -a 'balanced none' -d 'reweight classes for imbalanced targets'
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'calibrate' -r -f -a 'none sigmoid isotonic' -d 'calibrate probabilities on out-of-fold scores'
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'positive' -r -f -d 'label of the positive class (default 1 / yes / true, else the rarer class)'
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'drop' -r -f -d 'columns to exclude from the features (e.g. duration)'
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'leak-auc' -r -f -d 'single-column ROC AUC from which a column is reported as a possible leak'
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'learning-rate' -r -f -d 'step size'
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'max-iter' -r -f -d 'boosting rounds (gbm) or solver iterations (linear) at most'
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'max-leaf-nodes' -r -f -d 'leaves per tree'
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'min-samples-leaf' -r -f -d 'rows per leaf at least'
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'l2-regularization' -r -f -d 'L2 penalty on leaf values'
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'max-features' -r -f -d 'share of features tried per split'
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'early-stopping' -r -f -a 'true false' -d 'stop after 10 rounds without gain on a 10% validation split (false: run max_iter)'
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'c' -r -f -d 'inverse regularisation strength'
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'epochs' -r -f -d 'training epochs at most (early stopping)'
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'batch-size' -r -f -d 'rows per batch (0 = automatic)'
complete -c mktai -n '__mktai_first \'train\' \'propensity\' \'demand\'' -l 'patience' -r -f -d 'epochs without validation gain before stopping'
# mktai train segments
complete -c mktai -n '__mktai_first \'train\' \'segments\'' -l 'k' -r -f -d 'clusters: auto (silhouette), a number, or off'
complete -c mktai -n '__mktai_first \'train\' \'segments\'' -l 'k-max' -r -f -d 'largest k tried by --k auto'
complete -c mktai -n '__mktai_first \'train\' \'segments\'' -l 'clv' -r -f -a 'true false' -d 'fit BG/NBD + Gamma-Gamma lifetime value'
complete -c mktai -n '__mktai_first \'train\' \'segments\'' -l 'horizon' -r -f -d 'CLV horizon in days'
complete -c mktai -n '__mktai_first \'train\' \'segments\'' -l 'discount' -r -f -d 'annual discount rate for CLV'
complete -c mktai -n '__mktai_first \'train\' \'segments\'' -l 'as-of' -r -f -d 'last day included, YYYY-MM-DD (default: the last date)'
complete -c mktai -n '__mktai_first \'train\' \'segments\'' -l 'monetary' -r -f -a 'mean total' -d 'net value per order (mean) or in all (total)'
complete -c mktai -n '__mktai_first \'train\' \'segments\'' -l 'segment-map' -r -F -d 'JSON segment map replacing the standard RFM map'
# mktai train sentiment
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'labels' -r -f -d 'the label values expected, e.g. neg,pos (others are refused)'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'C' -r -f -d 'inverse regularisation strength'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'min-df' -r -f -d 'documents a term must appear in'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'nb-power' -r -f -d 'naive-Bayes log-count-ratio scaling power'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'char-max' -r -f -d 'longest character n-gram (0 = none)'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'word-ngram' -r -f -d 'longest word n-gram'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'max-features' -r -f -d 'vocabulary size limit (0 = none)'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'alpha' -r -f -d 'additive smoothing'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'max-tokens' -r -f -d 'vocabulary size'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'sequence-length' -r -f -d 'tokens per text'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'embedding-dim' -r -f -d 'embedding width'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'hidden' -r -f -d 'dense layer width'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'epochs' -r -f -d 'epochs at most (early stopping)'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'batch-size' -r -f -d 'texts per batch'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'patience' -r -f -d 'epochs without validation gain before stopping'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'validation-split' -r -f -d 'share of training texts for early stopping'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'refit' -r -f -d 'refit on all rows for the early-stopped epoch count (1) or not (0)'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'learning-rate' -r -f -d 'Adam step size'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'mask-zero' -r -f -d 'mask padding in the embedding (1) or not (0)'
complete -c mktai -n '__mktai_first \'train\' \'sentiment\'' -l 'holdout' -r -f -d 'share of rows held out for the holdout metrics'
# mktai train recommender
complete -c mktai -n '__mktai_first \'train\' \'recommender\'' -l 'feedback' -r -f -a 'explicit implicit' -d 'explicit or implicit (default: from the data)'
complete -c mktai -n '__mktai_first \'train\' \'recommender\'' -l 'scale' -r -f -d 'rating scale LOW,HIGH, e.g. 1,5 (default: detected)'
complete -c mktai -n '__mktai_first \'train\' \'recommender\'' -l 'n-factors' -r -f -d 'latent factors (Surprise defaults: 100/20/15)'
complete -c mktai -n '__mktai_first \'train\' \'recommender\'' -l 'n-epochs' -r -f -d 'SGD epochs (Surprise default 20, nmf 50)'
complete -c mktai -n '__mktai_first \'train\' \'recommender\'' -l 'lr-all' -r -f -d 'SGD learning rate (svd/svdpp)'
complete -c mktai -n '__mktai_first \'train\' \'recommender\'' -l 'reg-all' -r -f -d 'SGD regularisation (svd/svdpp); ALS regParam (als, default 0.05)'
complete -c mktai -n '__mktai_first \'train\' \'recommender\'' -l 'alpha' -r -f -d 'ALS implicit confidence: 1 + alpha x purchases (default 10)'
complete -c mktai -n '__mktai_first \'train\' \'recommender\'' -l 'k' -r -f -d 'neighbours per item (knn-baseline 40, item-knn 100)'
complete -c mktai -n '__mktai_first \'train\' \'recommender\'' -l 'lambda' -r -f -d 'EASE L2 regularisation'
complete -c mktai -n '__mktai_first \'train\' \'recommender\'' -l 'members' -r -f -a 'svd svdpp nmf knn-baseline baseline slope-one co-clustering' -d 'algorithms stacked by blend'
complete -c mktai -n '__mktai_first \'train\' \'recommender\'' -l 'weighting' -r -f -a 'binary count log' -d 'purchase matrix cells: binary, count or log'
complete -c mktai -n '__mktai_first \'train\' \'recommender\'' -l 'tune' -r -f -a 'true false' -d 'cross-validated grid search of the algorithm\'s parameters'
complete -c mktai -n '__mktai_first \'train\' \'recommender\'' -l 'split' -r -f -a 'random time' -d 'holdout split: random or time'
# mktai train forecast
complete -c mktai -n '__mktai_first \'train\' \'forecast\'' -l 'horizon' -r -f -d 'periods to forecast'
complete -c mktai -n '__mktai_first \'train\' \'forecast\'' -l 'by' -r -f -d 'series key column(s), e.g. store,product'
complete -c mktai -n '__mktai_first \'train\' \'forecast\'' -l 'freq' -r -f -a 'd w m q' -d 'D, W, M or Q (default: inferred; coarser re-aggregates)'
complete -c mktai -n '__mktai_first \'train\' \'forecast\'' -l 'agg' -r -f -a 'sum mean' -d 'how duplicate dates / re-aggregation combine'
complete -c mktai -n '__mktai_first \'train\' \'forecast\'' -l 'fill' -r -f -a 'zero interpolate' -d 'missing periods: zero (sales) or interpolate'
complete -c mktai -n '__mktai_first \'train\' \'forecast\'' -l 'wide' -r -f -a 'true false' -d 'one column per series instead of long format'
complete -c mktai -n '__mktai_first \'train\' \'forecast\'' -l 'value' -r -f -d 'the column to forecast (default: the amount/sales column)'
complete -c mktai -n '__mktai_first \'train\' \'forecast\'' -l 'exog' -r -f -d 'exogenous regressor columns (need future values)'
complete -c mktai -n '__mktai_first \'train\' \'forecast\'' -l 'future' -r -f -d 'train with --exog: future regressor values (date, keys, --exog columns) for the stored forecast (default: last values carried forward)'
complete -c mktai -n '__mktai_first \'train\' \'forecast\'' -l 'level' -r -f -d 'prediction interval levels in percent'
complete -c mktai -n '__mktai_first \'train\' \'forecast\'' -l 'origins' -r -f -d 'rolling origins used by auto to choose per series'
complete -c mktai -n '__mktai_first \'train\' \'forecast\'' -l 'intervals' -r -f -a 'conformal model' -d 'conformal (backtest residuals) or model'
complete -c mktai -n '__mktai_arg \'train\' 0' -f -a 'demand forecast propensity recommender segments sentiment' -d 'kind'
complete -c mktai -n '__mktai_arg \'train\' 1' -F -d 'data'

# mktai segment
complete -c mktai -n '__mktai_at \'segment\'' -l 'output' -s 'o' -r -F -d 'Write results here; format from the extension (.csv, .parquet, .json, .jsonl).'
complete -c mktai -n '__mktai_at \'segment\'' -l 'as-of' -r -f -d 'Last day included, YYYY-MM-DD (default: the last date): its lines are in, later ones out.'
complete -c mktai -n '__mktai_at \'segment\'' -l 'monetary' -r -f -d 'mean (net value per order, default) or total.'
complete -c mktai -n '__mktai_at \'segment\'' -l 'k' -r -f -d 'Clusters: auto (silhouette, default), a number, or off.'
complete -c mktai -n '__mktai_at \'segment\'' -l 'k-max' -r -f -d 'Largest k tried by --k auto (default 8).'
complete -c mktai -n '__mktai_at \'segment\'' -l 'clv' -d 'Add CLV: BG/NBD + Gamma-Gamma (P(alive), value).'
complete -c mktai -n '__mktai_at \'segment\'' -l 'horizon' -r -f -d 'CLV horizon in days (default 90).'
complete -c mktai -n '__mktai_at \'segment\'' -l 'discount' -r -f -d 'Annual discount rate for CLV, e.g. 0.1 (default 0).'
complete -c mktai -n '__mktai_at \'segment\'' -l 'segment-map' -r -F -d 'JSON segment map replacing the standard RFM map.'
complete -c mktai -n '__mktai_at \'segment\'' -l 'customers' -r -F -d 'Customers file with extra numeric features (--features).'
complete -c mktai -n '__mktai_at \'segment\'' -l 'features' -r -f -d 'Comma-separated numeric columns of --customers to cluster on.'
complete -c mktai -n '__mktai_at \'segment\'' -l 'model' -r -f -a '(__mktai_refs)' -d 'Apply a stored segments model (name, name@v3, name@alias).'
complete -c mktai -n '__mktai_at \'segment\'' -l 'compare-to' -r -F -d 'Previous segment output (or transactions, scored the same way): print the segment migration matrix.'
complete -c mktai -n '__mktai_at \'segment\'' -l 'report' -r -F -d 'Write a report: .html, .md or .json.'
complete -c mktai -n '__mktai_at \'segment\'' -l 'seed' -r -f -d 'Random seed: same data + seed = same result.'
complete -c mktai -n '__mktai_at \'segment\'' -l 'map' -r -f -d 'Set a column role explicitly, e.g. --map amount=Total --map date=OrderDate.'
complete -c mktai -n '__mktai_at \'segment\'' -l 'encoding' -r -f -d 'Input encoding (default: detected; e.g. utf-8, gb18030).'
complete -c mktai -n '__mktai_at \'segment\'' -l 'strict' -d 'Exit 2 when any row is rejected.'
complete -c mktai -n '__mktai_at \'segment\'' -l 'keep-duplicates' -d 'Keep identical lines (a log without order ids has genuine ones; default: drop).'
complete -c mktai -n '__mktai_at \'segment\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'segment\'' -l 'engine' -r -f -d 'Where the data work runs: local (default) or spark; default $MKTAI_ENGINE.'
complete -c mktai -n '__mktai_at \'segment\'' -l 'spark-master' -r -f -d 'Spark master URL, e.g. spark://host:7077, yarn, local[4] (default: $MKTAI_SPARK_MASTER, else $SPARK_REMOTE, spark-defaults.conf, local[*]).'
complete -c mktai -n '__mktai_at \'segment\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'segment\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'segment\'' -l 'help' -s 'h' -d 'Show this message and exit.'
complete -c mktai -n '__mktai_arg \'segment\' 0+' -F -d 'data'

# mktai recommend
complete -c mktai -n '__mktai_at \'recommend\'' -l 'model' -s 'm' -r -f -a '(__mktai_refs)' -d 'Stored recommender: name, name@v3 or name@alias.'
complete -c mktai -n '__mktai_at \'recommend\'' -l 'user' -s 'u' -r -f -d 'User / customer id; repeatable.'
complete -c mktai -n '__mktai_at \'recommend\'' -l 'all-users' -d 'Recommend for every user the model knows.'
complete -c mktai -n '__mktai_at \'recommend\'' -l 'similar-to' -r -f -d 'Items most similar to this item id.'
complete -c mktai -n '__mktai_at \'recommend\'' -l 'top' -s 'n' -r -f -d 'Items per user (default 10).'
complete -c mktai -n '__mktai_at \'recommend\'' -l 'include-seen' -d 'Allow items the user already rated/bought.'
complete -c mktai -n '__mktai_at \'recommend\'' -l 'exclude-items' -r -F -d 'File of item ids never to recommend (out of stock).'
complete -c mktai -n '__mktai_at \'recommend\'' -l 'output' -s 'o' -r -F -d 'Write results here; format from the extension (.csv, .parquet, .json, .jsonl).'
complete -c mktai -n '__mktai_at \'recommend\'' -l 'engine' -r -f -d 'Where the data work runs: local (default) or spark; default $MKTAI_ENGINE.'
complete -c mktai -n '__mktai_at \'recommend\'' -l 'spark-master' -r -f -d 'Spark master URL, e.g. spark://host:7077, yarn, local[4] (default: $MKTAI_SPARK_MASTER, else $SPARK_REMOTE, spark-defaults.conf, local[*]).'
complete -c mktai -n '__mktai_at \'recommend\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'recommend\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'recommend\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'recommend\'' -l 'help' -s 'h' -d 'Show this message and exit.'

# mktai forecast
complete -c mktai -n '__mktai_at \'forecast\'' -l 'horizon' -r -f -d 'Periods ahead (a stored model: its own).'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'by' -r -f -d 'Series key column(s), e.g. store,product.'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'freq' -r -f -d 'D, W, M or Q (default: inferred; coarser re-aggregates).'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'agg' -r -f -d 'sum (default) or mean: duplicates and re-aggregation.'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'fill' -r -f -d 'Missing periods: zero (default) or interpolate.'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'wide' -d 'One column per series.'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'value' -r -f -d 'Column to forecast (default: amount/sales).'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'model' -s 'm' -r -f -a '(__mktai_refs)' -d 'A method (auto, ets, ...) or a stored model name.'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'algorithm' -s 'a' -r -f -d 'auto (default), naive, snaive, drift, ets, theta, arima, linear, gbm, comb.'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'exog' -r -f -d 'Regressor columns, e.g. price,promo.'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'future' -r -F -d 'Future regressor values: date, keys, --exog columns.'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'level' -r -f -d 'Interval levels in percent, e.g. 80,95.'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'intervals' -r -f -d 'conformal (backtest residuals, default) or model.'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'backtest' -r -f -d 'Rolling origins for an accuracy table (0 = none).'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'detail' -d 'With --backtest: per-series accuracy too.'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'origins' -r -f -d 'Origins auto uses to choose per series.'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'plot' -r -F -d 'Draw history, forecast and intervals (.png/.html).'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'output' -s 'o' -r -F -d 'Write results here; format from the extension (.csv, .parquet, .json, .jsonl).'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'seed' -r -f -d 'Random seed: same data + seed = same result.'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'map' -r -f -d 'Set a column role explicitly, e.g. --map amount=Total --map date=OrderDate.'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'encoding' -r -f -d 'Input encoding (default: detected; e.g. utf-8, gb18030).'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'forecast\'' -l 'help' -s 'h' -d 'Show this message and exit.'
complete -c mktai -n '__mktai_arg \'forecast\' 0' -F -d 'data'

# mktai sentiment
complete -c mktai -n '__mktai_at \'sentiment\'' -l 'input' -s 'i' -r -F -d 'File of reviews (CSV/parquet/JSON lines...).'
complete -c mktai -n '__mktai_at \'sentiment\'' -l 'column' -s 'c' -r -f -d 'Text column of --input (default: detected).'
complete -c mktai -n '__mktai_at \'sentiment\'' -l 'output' -s 'o' -r -F -d 'Write results here; format from the extension (.csv, .parquet, .json, .jsonl).'
complete -c mktai -n '__mktai_at \'sentiment\'' -l 'model' -s 'm' -r -f -a '(__mktai_refs)' -d 'Stored sentiment model (name, name@v3, name@alias); default builtin.'
complete -c mktai -n '__mktai_at \'sentiment\'' -l 'explain' -d 'Add the n-grams that pushed each text to its label.'
complete -c mktai -n '__mktai_at \'sentiment\'' -l 'lang' -r -f -d 'auto (detect per text from CJK characters), en or zh.'
complete -c mktai -n '__mktai_at \'sentiment\'' -l 'encoding' -r -f -d 'Input encoding (default: detected; e.g. utf-8, gb18030).'
complete -c mktai -n '__mktai_at \'sentiment\'' -l 'strict' -d 'Exit 2 when any row is rejected.'
complete -c mktai -n '__mktai_at \'sentiment\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'sentiment\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'sentiment\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'sentiment\'' -l 'help' -s 'h' -d 'Show this message and exit.'
complete -c mktai -n '__mktai_arg \'sentiment\' 0+' -F -d 'texts'

# mktai predict
complete -c mktai -n '__mktai_at \'predict\'' -l 'model' -s 'm' -r -f -a '(__mktai_refs)' -d 'Stored model: name, name@v3 or name@alias.'
complete -c mktai -n '__mktai_at \'predict\'' -l 'output' -s 'o' -r -F -d 'Write results here; format from the extension (.csv, .parquet, .json, .jsonl).'
complete -c mktai -n '__mktai_at \'predict\'' -l 'map' -r -f -d 'Set a column role explicitly, e.g. --map amount=Total --map date=OrderDate.'
complete -c mktai -n '__mktai_at \'predict\'' -l 'encoding' -r -f -d 'Input encoding (default: detected; e.g. utf-8, gb18030).'
complete -c mktai -n '__mktai_at \'predict\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'predict\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'predict\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'predict\'' -l 'help' -s 'h' -d 'Show this message and exit.'
complete -c mktai -n '__mktai_arg \'predict\' 0' -F -d 'data'

# mktai evaluate
complete -c mktai -n '__mktai_at \'evaluate\'' -l 'model' -s 'm' -r -f -a '(__mktai_refs)' -d 'Stored model: name, name@v3 or name@alias; builtin = the built-in sentiment model.'
complete -c mktai -n '__mktai_at \'evaluate\'' -l 'data' -s 'd' -r -F -d 'Labelled evaluation data.'
complete -c mktai -n '__mktai_at \'evaluate\'' -l 'report' -r -F -d 'Write a report (.json, .md or .html); repeatable.'
complete -c mktai -n '__mktai_at \'evaluate\'' -l 'junit' -r -F -d 'JUnit XML with one test case per gate.'
complete -c mktai -n '__mktai_at \'evaluate\'' -l 'fail-under' -r -f -d 'Gate metric=value, repeatable: exit 1 when worse (for log_loss, brier, mae, rmse, mape: when above).'
complete -c mktai -n '__mktai_at \'evaluate\'' -l 'compare-to' -r -f -d 'Baseline: \'previous\' or NAME@vN, re-evaluated here.'
complete -c mktai -n '__mktai_at \'evaluate\'' -l 'max-drop' -r -f -d 'Gate metric=value: exit 1 when worse than the baseline by more.'
complete -c mktai -n '__mktai_at \'evaluate\'' -l 'map' -r -f -d 'Set a column role explicitly, e.g. --map amount=Total --map date=OrderDate.'
complete -c mktai -n '__mktai_at \'evaluate\'' -l 'encoding' -r -f -d 'Input encoding (default: detected; e.g. utf-8, gb18030).'
complete -c mktai -n '__mktai_at \'evaluate\'' -l 'strict' -d 'Exit 2 when the data is the training data (same file, or mostly its rows).'
complete -c mktai -n '__mktai_at \'evaluate\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'evaluate\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'evaluate\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'evaluate\'' -l 'help' -s 'h' -d 'Show this message and exit.'

# mktai models
complete -c mktai -n '__mktai_at \'models\'' -a 'list' -d 'List every model version with its aliases, kind, algorithm, date,...'
complete -c mktai -n '__mktai_at \'models\'' -a 'show' -d 'Show one version\'s manifest (parameters, schema, data fingerprint,...'
complete -c mktai -n '__mktai_at \'models\'' -a 'tag' -d 'Point NAME@ALIAS at a version (moves the alias if it already exists).'
complete -c mktai -n '__mktai_at \'models\'' -a 'untag' -d 'Remove an alias (the version itself stays).'
complete -c mktai -n '__mktai_at \'models\'' -a 'rm' -d 'Remove a version, or every version of a model with --all.'
complete -c mktai -n '__mktai_at \'models\'' -a 'prune' -d 'Remove old versions, keeping the newest --keep N plus every aliased...'
complete -c mktai -n '__mktai_at \'models\'' -a 'verify' -d 'Check every file\'s sha256 and every alias; exit 3 and list each...'
complete -c mktai -n '__mktai_at \'models\'' -a 'sign' -d 'Record a version\'s current manifest in the store index, signed with...'
complete -c mktai -n '__mktai_at \'models\'' -a 'export' -d 'Write one verified version to a .tar.gz that `mktai models import`...'
complete -c mktai -n '__mktai_at \'models\'' -a 'import' -d 'Import an exported version as the next version number of its name...'
complete -c mktai -n '__mktai_at \'models\'' -l 'help' -s 'h' -d 'Show this message and exit.'

# mktai models list
complete -c mktai -n '__mktai_at \'models list\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'models list\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'models list\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'models list\'' -l 'help' -s 'h' -d 'Show this message and exit.'
complete -c mktai -n '__mktai_arg \'models list\' 0' -f -a '(__mktai_refs)' -d 'name'

# mktai models show
complete -c mktai -n '__mktai_at \'models show\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'models show\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'models show\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'models show\'' -l 'help' -s 'h' -d 'Show this message and exit.'
complete -c mktai -n '__mktai_arg \'models show\' 0' -f -a '(__mktai_refs)' -d 'ref'

# mktai models tag
complete -c mktai -n '__mktai_at \'models tag\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'models tag\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'models tag\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'models tag\'' -l 'help' -s 'h' -d 'Show this message and exit.'
complete -c mktai -n '__mktai_arg \'models tag\' 0' -f -a '(__mktai_refs)' -d 'ref'
complete -c mktai -n '__mktai_arg \'models tag\' 1' -f -d 'alias'

# mktai models untag
complete -c mktai -n '__mktai_at \'models untag\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'models untag\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'models untag\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'models untag\'' -l 'help' -s 'h' -d 'Show this message and exit.'
complete -c mktai -n '__mktai_arg \'models untag\' 0' -f -a '(__mktai_refs)' -d 'name'
complete -c mktai -n '__mktai_arg \'models untag\' 1' -f -d 'alias'

# mktai models rm
complete -c mktai -n '__mktai_at \'models rm\'' -l 'all' -d 'Remove every version of NAME.'
complete -c mktai -n '__mktai_at \'models rm\'' -l 'force' -d 'Also remove versions that carry an alias.'
complete -c mktai -n '__mktai_at \'models rm\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'models rm\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'models rm\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'models rm\'' -l 'help' -s 'h' -d 'Show this message and exit.'
complete -c mktai -n '__mktai_arg \'models rm\' 0' -f -a '(__mktai_refs)' -d 'ref'

# mktai models prune
complete -c mktai -n '__mktai_at \'models prune\'' -l 'keep' -r -f -d 'Versions to keep per model (newest first).'
complete -c mktai -n '__mktai_at \'models prune\'' -l 'dry-run' -d 'Only print what would be removed.'
complete -c mktai -n '__mktai_at \'models prune\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'models prune\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'models prune\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'models prune\'' -l 'help' -s 'h' -d 'Show this message and exit.'
complete -c mktai -n '__mktai_arg \'models prune\' 0' -f -a '(__mktai_refs)' -d 'name'

# mktai models verify
complete -c mktai -n '__mktai_at \'models verify\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'models verify\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'models verify\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'models verify\'' -l 'help' -s 'h' -d 'Show this message and exit.'
complete -c mktai -n '__mktai_arg \'models verify\' 0' -f -a '(__mktai_refs)' -d 'ref'

# mktai models sign
complete -c mktai -n '__mktai_at \'models sign\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'models sign\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'models sign\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'models sign\'' -l 'help' -s 'h' -d 'Show this message and exit.'
complete -c mktai -n '__mktai_arg \'models sign\' 0' -f -a '(__mktai_refs)' -d 'ref'

# mktai models export
complete -c mktai -n '__mktai_at \'models export\'' -l 'output' -s 'o' -r -F -d 'Archive to write (.tar.gz).'
complete -c mktai -n '__mktai_at \'models export\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'models export\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'models export\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'models export\'' -l 'help' -s 'h' -d 'Show this message and exit.'
complete -c mktai -n '__mktai_arg \'models export\' 0' -f -a '(__mktai_refs)' -d 'ref'

# mktai models import
complete -c mktai -n '__mktai_at \'models import\'' -l 'name' -r -f -a '(__mktai_refs)' -d 'Import under this name instead.'
complete -c mktai -n '__mktai_at \'models import\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'models import\'' -l 'json' -d 'Print a machine-readable summary on stdout.'
complete -c mktai -n '__mktai_at \'models import\'' -l 'quiet' -s 'q' -d 'Silence progress output.'
complete -c mktai -n '__mktai_at \'models import\'' -l 'help' -s 'h' -d 'Show this message and exit.'
complete -c mktai -n '__mktai_arg \'models import\' 0' -F -d 'archive'

# mktai serve
complete -c mktai -n '__mktai_at \'serve\'' -l 'host' -r -f -d 'Address to bind; beyond loopback a token is required.'
complete -c mktai -n '__mktai_at \'serve\'' -l 'port' -s 'p' -r -f -d 'TCP port.'
complete -c mktai -n '__mktai_at \'serve\'' -l 'workers' -s 'w' -r -f -d 'Worker processes.'
complete -c mktai -n '__mktai_at \'serve\'' -l 'models' -r -f -a '(__mktai_refs)' -d 'Serve only these: NAME[@alias],... (default: --all).'
complete -c mktai -n '__mktai_at \'serve\'' -l 'all' -d 'Serve every model in the store (the default).'
complete -c mktai -n '__mktai_at \'serve\'' -l 'default-model' -r -f -d 'Model answering MLflow\'s POST /invocations.'
complete -c mktai -n '__mktai_at \'serve\'' -l 'token-file' -r -F -d 'File holding the bearer token (else $MKTAI_SERVE_TOKEN).'
complete -c mktai -n '__mktai_at \'serve\'' -l 'max-body' -r -f -d 'Largest request body (413 beyond), e.g. 10MB.'
complete -c mktai -n '__mktai_at \'serve\'' -l 'max-rows' -r -f -d 'Most rows or texts in one request (413 beyond).'
complete -c mktai -n '__mktai_at \'serve\'' -l 'timeout' -r -f -d 'Seconds to read a request and answer it (504).'
complete -c mktai -n '__mktai_at \'serve\'' -l 'store' -r -f -a '(__fish_complete_directories)' -d 'Artifact store directory (default: $MKTAI_STORE, else ./mktai-store).'
complete -c mktai -n '__mktai_at \'serve\'' -l 'help' -s 'h' -d 'Show this message and exit.'

# mktai demo
complete -c mktai -n '__mktai_at \'demo\'' -l 'out' -r -f -a '(__fish_complete_directories)' -d 'Directory for outputs (default: a new temporary directory).'
complete -c mktai -n '__mktai_at \'demo\'' -l 'seed' -r -f -d 'Random seed for every step.'
complete -c mktai -n '__mktai_at \'demo\'' -l 'help' -s 'h' -d 'Show this message and exit.'
