from .fast import FastConfig, FastStudent
from .registry import create_model, list_models, model_config, register_model
from .student import Student, StudentConfig
from .teacher import Teacher, TeacherConfig
from .zero_dce import ZeroDCE, ZeroDCEConfig

__all__ = [
    "FastConfig", "FastStudent",
    "Student", "StudentConfig", "Teacher", "TeacherConfig", "ZeroDCE", "ZeroDCEConfig",
    "create_model", "list_models", "model_config", "register_model",
]
