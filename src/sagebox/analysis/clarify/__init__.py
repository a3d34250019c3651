"""SageMaker Clarify's processing image, implemented in the open.

A processing job on ``sagemaker-clarify-processing`` runs `job.main` (``python3 -m
sagebox.analysis.clarify``). The analysis is also a library, pure functions over a table
and a configuration object, for the Model Monitor's bias and explainability drift:

- `AnalysisConfig.from_dict(analysis_config)`: the configuration;
- `build_dataset(frame, config)` / `load_dataset(folder, config)`: the table and its roles;
- `run_analysis(config, dataset, model, baseline=..., booster=...)`: analysis.json's content;
- `bias_section(frame, BiasColumns(...), methods, predicted=None)`: one bias section;
- `bias_metrics`: every metric as a function of boolean columns (`BiasInputs`);
- `shap_values.explain` / `kernel_shap`: SHAP values of any predict function.
"""

from sagebox.analysis.clarify.analysis import AnalysisResult, run_analysis
from sagebox.analysis.clarify.bias_metrics import POST_TRAINING, PRE_TRAINING, BiasInputs
from sagebox.analysis.clarify.bias_report import BiasColumns, bias_section
from sagebox.analysis.clarify.config import AnalysisConfig
from sagebox.analysis.clarify.dataset import Dataset, build_dataset, load_dataset
from sagebox.analysis.clarify.errors import ClarifyError

__all__ = [
    "POST_TRAINING",
    "PRE_TRAINING",
    "AnalysisConfig",
    "AnalysisResult",
    "BiasColumns",
    "BiasInputs",
    "ClarifyError",
    "Dataset",
    "bias_section",
    "build_dataset",
    "load_dataset",
    "run_analysis",
]
