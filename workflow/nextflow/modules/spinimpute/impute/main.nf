process SPINIMPUTE_IMPUTE {
    tag "$meta.id"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"
    container "${ workflow.containerEngine == 'singularity' && !task.ext.singularity_pull_docker_container ?
        'https://depot.galaxyproject.org/singularity/spin-impute:0.1.0--h0000000_0':
        'biocontainers/spin-impute:0.1.0--h0000000_0' }"

    input:
    tuple val(meta), path(input), path(input_index), path(ref), path(ref_index), path(map), val(region), val(buffer)
    tuple val(meta2), path(model)

    output:
    tuple val(meta), path("*.{vcf,vcf.gz,bcf}"), emit: vcf
    tuple val(meta), path("*.csi")             , emit: csi, optional: true
    tuple val(meta), path("*.stats.tsv")       , emit: stats
    path "versions.yml"                        , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args      = task.ext.args ?: ''
    def prefix    = task.ext.prefix ?: "${meta.id}"
    def extension = args.contains("-O b") || args.contains("--output-type b") ? "bcf" :
                    args.contains("-O u") || args.contains("--output-type u") ? "bcf" :
                    args.contains("-O v") || args.contains("--output-type v") ? "vcf" :
                    "vcf.gz"
    def map_cmd    = map    ? "--map ${map}"       : ""
    def model_cmd  = model  ? "--model ${model}"   : ""
    def region_cmd = region ? "--region ${region}" : ""
    def buffer_cmd = region && buffer ? "--buffer ${buffer}" : ""
    """
    spin-impute impute \\
        $args \\
        $region_cmd \\
        $buffer_cmd \\
        $map_cmd \\
        $model_cmd \\
        --threads ${task.cpus} \\
        --stats ${prefix}.stats.tsv \\
        -o ${prefix}.${extension} \\
        $ref \\
        $input

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        spin-impute: \$(spin-impute --version | sed 's/^spin-impute //')
    END_VERSIONS
    """

    stub:
    def args      = task.ext.args ?: ''
    def prefix    = task.ext.prefix ?: "${meta.id}"
    def extension = args.contains("-O b") || args.contains("--output-type b") ? "bcf" :
                    args.contains("-O u") || args.contains("--output-type u") ? "bcf" :
                    args.contains("-O v") || args.contains("--output-type v") ? "vcf" :
                    "vcf.gz"
    def create_cmd = extension.endsWith(".gz") ? "echo '' | gzip >" : "touch"
    """
    ${create_cmd} ${prefix}.${extension}
    touch ${prefix}.stats.tsv

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        spin-impute: \$(spin-impute --version | sed 's/^spin-impute //')
    END_VERSIONS
    """
}
